// npm run test:node22 [-- <vitest filters>] — builds and runs the test suite on Node 22, the runtime
// Azure runs (infra/modules/function-app.bicep), whatever Node this machine has.
//
// Node itself comes from the npm registry, into a cache folder outside the project (never a project
// dependency): the `node` package only carries a preinstall script that installs the platform
// package node-<os>-<cpu> (its installArchSpecificPackage), and npm no longer runs install scripts it
// has not been told to allow, so the platform package, which holds bin/node, is installed directly.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const RANGE = '^22.13.0';
const platform = { linux: 'linux', darwin: 'darwin', win32: 'win' }[process.platform];
const cpu = { x64: 'x64', arm64: 'arm64' }[process.arch];
if (!platform || !cpu) {
  console.error(`test:node22: no Node package for ${process.platform}-${process.arch} on the npm registry.`);
  process.exit(2);
}
const pkg = `node-${platform}-${cpu}`;
const cache =
  process.env.NODE22_DIR ||
  path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir() || os.tmpdir(), '.cache'), 'azure-sms-pipeline', 'node22');
const binDir = platform === 'win' ? path.join(cache, 'node_modules', pkg) : path.join(cache, 'node_modules', pkg, 'bin');
const nodeBin = path.join(binDir, platform === 'win' ? 'node.exe' : 'node');
const shell = process.platform === 'win32';

function version() {
  if (!existsSync(nodeBin)) return undefined;
  const out = spawnSync(nodeBin, ['--version'], { encoding: 'utf8' });
  return out.status === 0 ? out.stdout.trim() : undefined;
}

if (!/^v22\./.test(version() ?? '')) {
  console.error(`test:node22: installing ${pkg}@${RANGE} from the npm registry into ${cache} ...`);
  const install = spawnSync(
    'npm',
    ['install', '--prefix', cache, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `${pkg}@${RANGE}`],
    {
      stdio: 'inherit',
      shell,
    },
  );
  if (install.status !== 0 || !/^v22\./.test(version() ?? '')) {
    console.error(`test:node22: could not install ${pkg}@${RANGE}.`);
    process.exit(2);
  }
}

// With Node 22 first on PATH, npm, the build and every process the tests start run on it
// (tests start children with process.execPath, which is then Node 22 too).
const env = { ...process.env, PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}` };
console.log(`test:node22: Node ${version()} (${nodeBin})`);
const run = (args) => spawnSync('npm', args, { cwd: root, env, stdio: 'inherit', shell }).status ?? 1;
const built = run(['run', 'build']);
if (built !== 0) process.exit(built);
process.exit(run(['exec', '--', 'vitest', 'run', ...process.argv.slice(2)]));
