// The package Azure runs is the one tested: built the way `azd package` builds it (`npm run build` in
// the project, which the test scripts run first, then a zip of azure.yaml's `dist` folder with azd's
// exclusions), unpacked into an empty folder with no node_modules anywhere above it, and loaded the
// way the Functions Node.js worker loads an app. Every function must register with the same name, trigger and bindings as the compiled
// app registers in the contract test (test/contract/functions.test.ts).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureInChild, type CapturedFunction } from '../support/captureRegistrations.js';
import { root } from '../support/localStack.js';
// @ts-expect-error -- a plain ES module of the build tooling, without type declarations
import { PACKAGE_DIR, azdZipEntries, describe as describeDir, unzip, writeZip } from '../../infra/tools/package.mjs';

const azureSettings = {
  SMS_SENDERS: '[{"number":"+18005550100","type":"tollFree"}]',
  OUTBOUND_QUEUE_TRANSPORT: 'servicebus',
  AzureWebJobsStorage__accountName: 'stsms',
  ServiceBusConnection__fullyQualifiedNamespace: 'sb-sms.servicebus.windows.net',
  ACS_ENDPOINT: 'https://acs-sms.communication.azure.com',
  OUTBOUND_QUEUE_NAME: 'sms-outbound',
  RECONCILE_SCHEDULE: '0 */5 * * * *',
};

/**
 * Loads an app the way the Functions Node.js worker does: `@azure/functions-core` answered by a proxy
 * on Module.prototype.require (azure-functions-nodejs-worker src/setupCoreModule.ts), then the entry
 * named by package.json `main` imported as an ES module (src/loadScriptFile.ts, `type: module`). It
 * then imports every other module of the package, so a lazily loaded chunk that could not load
 * without node_modules fails here rather than at the first send, and serves the dashboard page.
 */
const WORKER_SCRIPT = `
import Module from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
const dir = process.argv[2];
const functions = [];
const disposable = { dispose() {} };
const coreApi = {
  version: '3.10.1', hostVersion: '4.1000.0', Disposable: class { dispose() {} },
  registerFunction(metadata, callback) { functions.push({ metadata, callback }); return disposable; },
  setProgrammingModel() {}, getProgrammingModel() { return undefined; }, registerHook() { return disposable; }, log() {},
};
Module.prototype.require = new Proxy(Module.prototype.require, {
  apply(target, thisArg, args) { return args[0] === '@azure/functions-core' ? coreApi : Reflect.apply(target, thisArg, args); },
});
const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
await import(pathToFileURL(path.join(dir, pkg.main)).href);
const modules = readdirSync(dir).filter((f) => f.endsWith('.js'));
for (const f of modules) await import(pathToFileURL(path.join(dir, f)).href);
const dashboard = functions.find((f) => f.metadata.name === 'dashboard');
const log = () => {};
const context = { invocationId: 'test', functionName: 'dashboard', log, trace: log, debug: log, info: log, warn: log, error: log };
const page = await dashboard.callback({ method: 'GET', url: 'http://localhost/api/dashboard', headers: new Headers(), query: new URLSearchParams() }, context);
const registered = functions.map(({ metadata }) => {
  const bindings = metadata.bindings;
  const [triggerName, trigger] = Object.entries(bindings).find(([, b]) => /trigger$/i.test(b.type));
  return { name: metadata.name, trigger: { ...trigger, name: triggerName }, bindings };
});
process.stdout.write(JSON.stringify({ registered, modules: modules.length, dashboard: { status: page.status, bytes: String(page.body ?? '').length, chart: /Chart\\.js v4/.test(String(page.body)) } }));
`;

interface Loaded {
  registered: CapturedFunction[];
  modules: number;
  dashboard: { status: number; bytes: number; chart: boolean };
}

const MiB = 1024 * 1024;

describe('the deployment package, as azd builds and Flex Consumption loads it', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'sms-deploy-package-'));
  const unpacked = path.join(work, 'wwwroot');
  let entries: string[];
  let zipBytes: number;
  let loaded: Loaded;

  beforeAll(() => {
    // azure.yaml decides what azd does: language ts (npm), host function, the `dist` folder, no remote build.
    const yaml = readFileSync(path.join(root, 'azure.yaml'), 'utf8');
    const dist = /^\s+dist:\s*(\S+)\s*$/m.exec(yaml)?.[1];
    expect(dist, 'azure.yaml services.api.dist').toBe(PACKAGE_DIR);
    expect(yaml).toMatch(/^\s+language:\s*ts\s*$/m);
    expect(yaml).toMatch(/^\s+remoteBuild:\s*false\s*$/m);

    // What azd's node framework service runs for Package (framework_service_node.go) is
    // `npm run build --if-present`; the test scripts run the same build before vitest, so the
    // package it left is the one azd would zip (building it again here cost a tenth of the
    // contract project's CPU).
    const scripts = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
      .scripts;
    expect(scripts.build, 'npm run build makes the deployment package').toMatch(/npm run build:package/);
    expect(scripts['build:package']).toMatch(/infra\/tools\/package\.mjs/);
    expect(scripts.test, 'npm test builds first').toMatch(/^npm run build && /);

    const packageDir = path.join(root, PACKAGE_DIR);
    expect(existsSync(packageDir), `${PACKAGE_DIR} is missing: npm run build first`).toBe(true);
    entries = azdZipEntries(packageDir);
    const zipPath = path.join(work, 'api.zip');
    zipBytes = writeZip(packageDir, entries, zipPath);
    expect(unzip(zipPath, unpacked).sort()).toEqual([...entries].sort());

    // Nothing to resolve packages from but the package itself.
    for (let dir = unpacked; dir !== path.dirname(dir); dir = path.dirname(dir)) {
      expect(existsSync(path.join(dir, 'node_modules')), `${dir}/node_modules must not exist`).toBe(false);
    }
    const script = path.join(work, 'worker.mjs');
    writeFileSync(script, WORKER_SCRIPT);
    const out = execFileSync(process.execPath, [script, unpacked], {
      cwd: unpacked,
      env: { PATH: process.env.PATH ?? '', ...azureSettings },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    loaded = JSON.parse(out) as Loaded;
  }, 240_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('holds only what runs: no node_modules, no sources, no dev tooling, well under 60 MB', () => {
    const { files, bytes } = describeDir(unpacked) as { files: string[]; bytes: number };
    console.log(
      `deployment package: ${files.length} files, ${(bytes / MiB).toFixed(2)} MiB unpacked, ${(zipBytes / MiB).toFixed(2)} MiB zipped`,
    );
    expect(bytes).toBeLessThan(60 * MiB);
    expect(files).toEqual(
      expect.arrayContaining(['host.json', 'package.json', 'index.js', 'dashboard/dashboard.js', 'data/timezones.bson']),
    );
    for (const f of files)
      expect(f, "only the bundle, host.json, package.json, the dashboard and libphonenumber's time-zone map").toMatch(
        /^([\w-]+\.js|host\.json|package\.json|dashboard\/dashboard\.js|data\/timezones\.bson)$/,
      );
    const pkg = JSON.parse(readFileSync(path.join(unpacked, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg).toMatchObject({ type: 'module', main: 'index.js' });
    expect(pkg.dependencies).toBeUndefined();
    expect(pkg.devDependencies).toBeUndefined();
    expect(readFileSync(path.join(unpacked, 'host.json'), 'utf8')).toBe(readFileSync(path.join(root, 'host.json'), 'utf8'));
  });

  it('registers every function with the same names, triggers and bindings as the compiled app', () => {
    const expected = captureInChild(azureSettings);
    const byName = (fns: CapturedFunction[]) =>
      Object.fromEntries(fns.map((f) => [f.name, { trigger: f.trigger, bindings: f.bindings }]));
    expect(loaded.registered.map((f) => f.name).sort()).toEqual(expected.map((f) => f.name).sort());
    expect(byName(loaded.registered)).toEqual(byName(expected));
  });

  it('loads every module of the package without node_modules, and serves the dashboard with its script', () => {
    expect(loaded.modules).toBeGreaterThan(1);
    expect(loaded.dashboard).toMatchObject({ status: 200, chart: true });
  });
});
