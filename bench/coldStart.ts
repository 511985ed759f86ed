// Cold start: how long a fresh Node process takes to import the compiled function app entry
// (package.json "main") with the @azure/functions registrations captured as the local host and
// the contract tests capture them. Three figures, the median of several fresh processes each:
//   lazy     — the compiled app in dist/ (as `func start` runs it): SDKs are imported by the adapters when first used;
//   eager    — the same, with every Azure SDK of package.json imported first, as an app that
//              imports its SDKs at the top of its modules would;
//   bundled  — the entry bundled by esbuild (lazy imports kept as separate chunks), as the
//              deployment package is (infra/tools/package.mjs);
//   bundled, telemetry on — the same with telemetry exporting to Azure Monitor, as in Azure (an
//              Application Insights connection string set): the OpenTelemetry providers start with
//              the app; the Azure Monitor exporters load on their first export, after the figure.
// `node dist/bench/coldStart.js` runs it alone.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeMachine, formatMachine } from './machine.js';
import { isMain, root, sampleSettings } from './benchStack.js';

export interface ColdStartFigure {
  mode: 'lazy' | 'eager' | 'bundled' | 'bundled, telemetry on';
  /** Median time to import the entry and register the functions. */
  importMs: number;
  /** Median time from process start to registered (Node's own start-up included). */
  processMs: number;
  /** Median resident memory right after, MiB. */
  rssMiB: number;
  functions: number;
  runs: number;
}

const RUNS = 7;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** The Azure SDKs the app depends on (what the adapters import on first use). */
export function sdkPackages(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  return Object.keys(pkg.dependencies ?? {}).filter((name) => name.startsWith('@azure/') && name !== '@azure/functions');
}

/** Settings of an app that exports its telemetry to Application Insights (a well-formed, unused connection string). */
const TELEMETRY_ON = {
  TELEMETRY_EXPORTER: 'azureMonitor',
  APPLICATIONINSIGHTS_CONNECTION_STRING:
    'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:9/',
};

function once(
  entry: string,
  preload: string[],
  env: Record<string, string> = {},
): { importMs: number; processMs: number; rssMiB: number; functions: number } {
  const script = `
    const started = performance.now();
    for (const name of ${JSON.stringify(preload)}) await import(name);
    const { captureRegistrations } = await import(${JSON.stringify(path.join(root, 'dist/local/host/functionsCore.js'))});
    const functions = await captureRegistrations(${JSON.stringify(entry)});
    const ended = performance.now();
    process.stdout.write(JSON.stringify({ importMs: ended - started, processMs: ended, rssMiB: process.memoryUsage().rss / 2 ** 20, functions: functions.length }));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...sampleSettings(), ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(out) as { importMs: number; processMs: number; rssMiB: number; functions: number };
}

function measure(
  mode: ColdStartFigure['mode'],
  entry: string,
  preload: string[],
  env: Record<string, string> = {},
): ColdStartFigure {
  once(entry, preload, env); // the first process warms the file system cache; not counted
  const runs = Array.from({ length: RUNS }, () => once(entry, preload, env));
  return {
    mode,
    importMs: median(runs.map((r) => r.importMs)),
    processMs: median(runs.map((r) => r.processMs)),
    rssMiB: median(runs.map((r) => r.rssMiB)),
    functions: runs[0]!.functions,
    runs: RUNS,
  };
}

async function bundle(entry: string, outdir: string): Promise<string> {
  const esbuild = await import('esbuild');
  await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    splitting: true,
    outdir,
    logLevel: 'error',
    // Provided by the Functions worker at run time, never bundled.
    external: ['@azure/functions-core'],
    // @azure/functions is CommonJS and requires '@azure/functions-core' lazily.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
  });
  return path.join(outdir, path.basename(entry));
}

export async function measureColdStart(): Promise<ColdStartFigure[]> {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { main: string };
  const entry = path.join(root, pkg.main);
  const figures = [measure('lazy', entry, []), measure('eager', entry, sdkPackages())];
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'sms-bench-bundle-'));
  try {
    const bundled = await bundle(entry, outdir);
    figures.push(measure('bundled', bundled, []), measure('bundled, telemetry on', bundled, [], TELEMETRY_ON));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
  return figures;
}

if (isMain(import.meta.url)) {
  console.log(formatMachine(describeMachine(root)));
  for (const f of await measureColdStart()) {
    console.log(
      `cold start (${f.mode}): import + registration ${f.importMs.toFixed(0)} ms, process start to registered ${f.processMs.toFixed(0)} ms, ` +
        `RSS ${f.rssMiB.toFixed(0)} MiB, ${f.functions} functions (median of ${f.runs})`,
    );
  }
}
