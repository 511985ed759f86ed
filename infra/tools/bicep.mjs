// Finds the real Bicep CLI, so infra/ is compiled and linted by Microsoft's compiler rather than
// read as text. In order: $BICEP_CLI, a `bicep` on PATH, `az bicep`, then the NuGet package
// Azure.Bicep.CommandLine.<rid> (the self-contained CLI, as tools/bicep) restored with the .NET SDK
// into a cache folder outside the repository. The version is pinned so every machine compiles alike.
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The CLI version this repository is checked with (NuGet serves it as Azure.Bicep.CommandLine.<rid>). */
export const BICEP_VERSION = '0.49.2';

/** How to get the CLI, for messages on a machine that has none. */
export const HOW_TO_GET_BICEP = [
  'The Bicep CLI is needed to compile and lint infra/. Any one of these provides it:',
  `  - the .NET SDK (https://dot.net): npm run infra:check then restores Azure.Bicep.CommandLine ${BICEP_VERSION} from NuGet by itself;`,
  '  - the Bicep CLI on PATH (https://aka.ms/bicep-install), or BICEP_CLI=/path/to/bicep;',
  '  - the Azure CLI with Bicep (az bicep install).',
].join('\n');

/** NuGet runtime identifier of this machine, as the Bicep CLI packages name it. */
export function runtimeIdentifier(platform = process.platform, arch = process.arch) {
  const osName = { linux: 'linux', darwin: 'osx', win32: 'win' }[platform];
  const cpu = { x64: 'x64', arm64: 'arm64' }[arch];
  return osName && cpu ? `${osName}-${cpu}` : undefined;
}

/** Where the restored package lives: outside git, kept between runs ($BICEP_CACHE_DIR overrides it). */
export function cacheDir() {
  if (process.env.BICEP_CACHE_DIR) return process.env.BICEP_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir() || os.tmpdir(), '.cache');
  return path.join(base, 'azure-sms-pipeline', 'bicep');
}

/**
 * The environment the CLI runs with. The self-contained .NET executable needs ICU unless invariant
 * globalization is on, and a writable HOME for its own caches (module cache, telemetry opt-out file).
 */
export function bicepEnv(base = process.env) {
  const env = { ...base, DOTNET_SYSTEM_GLOBALIZATION_INVARIANT: '1', DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1' };
  if (!env.HOME || !isWritable(env.HOME)) env.HOME = mkdtempSync(path.join(os.tmpdir(), 'bicep-home-'));
  return env;
}

function isWritable(dir) {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function answers(command, args, env) {
  const result = spawnSync(command, args, {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    shell: process.platform === 'win32',
  });
  return result.status === 0 ? `${result.stdout}${result.stderr}` : undefined;
}

/** The executable inside the restored NuGet package, if it is there. */
function cachedExecutable(rid) {
  const exe = path.join(
    cacheDir(),
    'packages',
    `azure.bicep.commandline.${rid}`,
    BICEP_VERSION,
    'tools',
    rid.startsWith('win') ? 'bicep.exe' : 'bicep',
  );
  return existsSync(exe) ? exe : undefined;
}

/**
 * Restores Azure.Bicep.CommandLine.<rid> with `dotnet restore` of a throwaway project that only
 * downloads the package (PackageDownload), so nothing is built and nothing lands in the repository.
 */
function restoreFromNuGet(rid, dotnetVersion, log) {
  const dir = cacheDir();
  // The SDK's own target framework needs no extra download (its targeting pack ships with it).
  const framework = `net${dotnetVersion.split('.')[0]}.0`;
  mkdirSync(dir, { recursive: true });
  const project = path.join(dir, 'restore-bicep.csproj');
  writeFileSync(
    project,
    [
      '<Project Sdk="Microsoft.NET.Sdk">',
      `  <PropertyGroup><TargetFramework>${framework}</TargetFramework></PropertyGroup>`,
      `  <ItemGroup><PackageDownload Include="Azure.Bicep.CommandLine.${rid}" Version="[${BICEP_VERSION}]" /></ItemGroup>`,
      '</Project>',
      '',
    ].join('\n'),
  );
  log(`Restoring Azure.Bicep.CommandLine.${rid} ${BICEP_VERSION} from NuGet into ${dir} ...`);
  const result = spawnSync('dotnet', ['restore', project, '--packages', path.join(dir, 'packages'), '--verbosity', 'quiet'], {
    env: bicepEnv(),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  rmSync(path.join(dir, 'obj'), { recursive: true, force: true });
  if (result.status !== 0) {
    throw new Error(
      `dotnet restore of Azure.Bicep.CommandLine.${rid} ${BICEP_VERSION} failed:\n${result.stdout}${result.stderr}`,
    );
  }
  const exe = cachedExecutable(rid);
  if (!exe) throw new Error(`dotnet restore finished but ${rid}/tools/bicep is not in ${dir}`);
  // NuGet does not keep the execute bit everywhere (the package ships it as rwxr--r--).
  if (!rid.startsWith('win')) chmodSync(exe, 0o755);
  return exe;
}

/**
 * The Bicep CLI as { command, prefix, version, source }: run it as `command ...prefix <bicep args>`.
 * Returns undefined, with the reason in `missing`, when none can be had on this machine.
 */
export function findBicep({ restore = true, log = (m) => console.error(m) } = {}) {
  const env = bicepEnv();
  const tried = [];
  const candidates = [];
  if (process.env.BICEP_CLI) candidates.push({ command: process.env.BICEP_CLI, prefix: [], source: 'BICEP_CLI' });
  const rid = runtimeIdentifier();
  const cached = rid && cachedExecutable(rid);
  if (cached) candidates.push({ command: cached, prefix: [], source: `NuGet cache (${cacheDir()})` });
  candidates.push({ command: 'bicep', prefix: [], source: 'PATH' });
  candidates.push({ command: 'az', prefix: ['bicep'], source: 'az bicep' });
  for (const c of candidates) {
    const out = answers(c.command, [...c.prefix, '--version'], env);
    const version = out && /(\d+\.\d+\.\d+)/.exec(out)?.[1];
    if (version) return { ...c, version, env };
    tried.push(c.source);
  }
  const dotnetVersion = rid && restore ? /(\d+)\.\d+\.\d+/.exec(answers('dotnet', ['--version'], env) ?? '')?.[0] : undefined;
  if (rid && dotnetVersion) {
    const command = restoreFromNuGet(rid, dotnetVersion, log);
    const version = /(\d+\.\d+\.\d+)/.exec(execFileSync(command, ['--version'], { env, encoding: 'utf8' }))?.[1];
    if (version) return { command, prefix: [], source: 'NuGet (restored now)', version, env };
  }
  tried.push(rid ? 'the .NET SDK (dotnet) for NuGet' : `NuGet (no Bicep CLI package for ${process.platform}-${process.arch})`);
  return { missing: `no Bicep CLI found (tried ${tried.join(', ')}).\n${HOW_TO_GET_BICEP}` };
}

/** Runs the CLI; resolves with exit code and output, never throws for a non-zero exit. */
export function runBicep(cli, args, options = {}) {
  const result = spawnSync(cli.command, [...cli.prefix, ...args], {
    env: cli.env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
    shell: process.platform === 'win32',
    ...options,
  });
  if (result.error) throw result.error;
  return { status: result.status ?? 1, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}
