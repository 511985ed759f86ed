// npm run infra:check — compiles and lints every .bicep file of infra/ with the real Bicep CLI and
// writes the ARM JSON to dist/infra/ (what test/infra reads). Fails on any error or warning.
//
// Why warnings fail too: the mistakes that matter most reach the compiler only as warnings. A
// misspelt or unknown property (BCP037/BCP089), a value of the wrong type (BCP036) and an API
// version without types (BCP081) are all warnings in Bicep, because resource types may be
// incomplete. bicepconfig.json can raise linter rules to errors, but not these core diagnostics
// (its schema, Azure/bicep src/vscode-bicep/resources/configuration/bicepconfig.schema.json, has
// analyzers.core.rules for linter rules only), and the CLI has no warnings-as-errors switch
// (Azure/bicep src/Bicep.Cli/Arguments). So this script treats every warning as an error; a
// property the types really lack would be suppressed where it stands, with #disable-next-line and
// a comment saying why.
//
//   node infra/tools/check.mjs [--infra <dir>] [--out <dir>] [--no-build]
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBicep, runBicep } from './bicep.mjs';

const root = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** One compiler or linter diagnostic, as the CLI prints it: `file(line,col) : Level code: message`. */
const DIAGNOSTIC = /^(.+?)\((\d+),(\d+)\) : (Error|Warning|Info) ([\w-]+): (.*)$/;

/** The diagnostics in CLI output, each once (build repeats a module's diagnostics for its callers). */
export function parseDiagnostics(output) {
  const seen = new Map();
  for (const line of output.split(/\r?\n/)) {
    const m = DIAGNOSTIC.exec(line.trim());
    if (!m) continue;
    const [, file, lineNo, col, level, code, message] = m;
    const key = `${file}:${lineNo}:${col}:${code}`;
    if (!seen.has(key)) seen.set(key, { file, line: Number(lineNo), column: Number(col), level, code, message });
  }
  return [...seen.values()];
}

function bicepFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return bicepFiles(full);
    return name.endsWith('.bicep') ? [full] : [];
  });
}

/**
 * Lints and builds every .bicep file under `infraDir`; returns the diagnostics, whether the check
 * passed, and where the ARM JSON went.
 */
export function checkInfra({
  infraDir = path.join(root, 'infra'),
  outDir = path.join(root, 'dist', 'infra'),
  build = true,
  cli,
} = {}) {
  const bicep = cli ?? findBicep();
  if (bicep.missing) return { ok: false, missing: bicep.missing, diagnostics: [] };
  const files = bicepFiles(infraDir);
  if (files.length === 0) throw new Error(`no .bicep file under ${infraDir}`);
  // --pattern takes every file in one process (the CLI's start-up is most of the time).
  const lint = runBicep(bicep, ['lint', '--pattern', '**/*.bicep'], { cwd: infraDir });
  let output = `${lint.stdout}\n${lint.stderr}`;
  let status = lint.status;
  if (build) {
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(outDir, { recursive: true });
    const built = runBicep(bicep, ['build', '--pattern', '**/*.bicep', '--outdir', outDir], { cwd: infraDir });
    output += `\n${built.stdout}\n${built.stderr}`;
    status = status || built.status;
  }
  const diagnostics = parseDiagnostics(output);
  const failing = diagnostics.filter((d) => d.level !== 'Info');
  // A non-zero exit without a parsed diagnostic (a crash, a bad config) must not pass either.
  const unexplained = status !== 0 && failing.length === 0 ? output.trim() : undefined;
  return { ok: failing.length === 0 && status === 0, diagnostics, failing, unexplained, files, outDir, cli: bicep };
}

function main(argv) {
  const arg = (name) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const infraDir = path.resolve(arg('--infra') ?? path.join(root, 'infra'));
  const outDir = path.resolve(arg('--out') ?? path.join(root, 'dist', 'infra'));
  const started = Date.now();
  const result = checkInfra({ infraDir, outDir, build: !argv.includes('--no-build') });
  if (result.missing) {
    console.error(`infra:check: ${result.missing}`);
    return 2;
  }
  const rel = (f) => path.relative(process.cwd(), f) || f;
  for (const d of result.diagnostics) {
    console.error(`${rel(d.file)}:${d.line}:${d.column} ${d.level === 'Info' ? 'info' : 'error'} ${d.code}: ${d.message}`);
  }
  if (result.unexplained) console.error(result.unexplained);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const what = `${result.files.length} Bicep files with Bicep CLI ${result.cli.version} (${result.cli.source})`;
  if (!result.ok) {
    console.error(
      `infra:check failed: ${result.failing.length} diagnostic(s) in ${what}, ${seconds} s. Warnings count as errors (see infra/tools/check.mjs).`,
    );
    return 1;
  }
  console.log(
    `infra:check passed: ${what} linted${argv.includes('--no-build') ? '' : ` and built into ${rel(outDir)}`}, ${seconds} s.`,
  );
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
