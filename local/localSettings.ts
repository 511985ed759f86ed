// The local settings and the ports of the local stack, resolved in one place so that `npm start`,
// the function host, the ACS emulator, `npm run dead-letters` and the benchmarks all agree on where
// each part listens. For each port: the environment, then local.settings.json (or the sample),
// then the default — the order `func start` itself follows for Host.LocalHttpPort.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The parts of the local stack that listen, and the ports they use unless told otherwise. */
export const DEFAULT_PORTS = { functions: 7071, acsEmulator: 7081, blob: 10000, queue: 10001, table: 10002 } as const;

export type LocalPortName = keyof typeof DEFAULT_PORTS;
export type LocalPorts = Record<LocalPortName, number>;

/** The setting that moves each part, as the README documents it. */
export const PORT_SETTINGS: Record<LocalPortName, string> = {
  functions: 'FUNCTIONS_HTTP_PORT',
  acsEmulator: 'ACS_EMULATOR_PORT',
  blob: 'AZURITE_BLOB_PORT',
  queue: 'AZURITE_QUEUE_PORT',
  table: 'AZURITE_TABLE_PORT',
};

/** What each part is called in messages. */
export const PORT_NAMES: Record<LocalPortName, string> = {
  functions: 'the function host',
  acsEmulator: 'the ACS SMS emulator',
  blob: 'Azurite Blob',
  queue: 'Azurite Queue',
  table: 'Azurite Table',
};

/** A port that another process holds: start-up stops with this, naming the port and its setting. */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly part: string,
  ) {
    super(`port ${port} (${part}) is already in use by another process`);
    this.name = 'PortInUseError';
  }
}

/** A port setting that is not a port number. */
export class PortSettingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PortSettingError';
  }
}

export interface LocalSettingsFile {
  /** Which file was read: local.settings.json, else local.settings.sample.json. */
  file: string;
  Values: Record<string, string>;
  Host: { LocalHttpPort?: number | string; [key: string]: unknown };
}

/** local.settings.json when it exists, otherwise the sample (what a new user runs with). */
export function readLocalSettingsFile(root: string): LocalSettingsFile {
  for (const name of ['local.settings.json', 'local.settings.sample.json']) {
    const file = path.join(root, name);
    if (!existsSync(file)) continue;
    let parsed: { Values?: Record<string, string>; Host?: LocalSettingsFile['Host'] };
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8')) as typeof parsed;
    } catch (error) {
      throw new Error(`${name} is not valid JSON: ${(error as Error).message}`, { cause: error });
    }
    return { file, Values: { ...(parsed.Values ?? {}) }, Host: { ...(parsed.Host ?? {}) } };
  }
  throw new Error('neither local.settings.json nor local.settings.sample.json exists');
}

/** The Values of local.settings.json, or of the sample when there is none. */
export function readLocalSettings(root: string): Record<string, string> {
  return readLocalSettingsFile(root).Values;
}

function parsePort(raw: unknown, origin: string): number | undefined {
  if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) return undefined;
  const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new PortSettingError(`${origin} must be a port number from 0 to 65535 (0: any free port), got "${String(raw)}"`);
  }
  return n;
}

/** The port of a loopback endpoint in an ACS connection string (the emulator's), if it names one. */
function acsEndpointPort(connectionString: string | undefined): number | undefined {
  const match = /endpoint=https?:\/\/(?:127\.0\.0\.1|localhost|\[::1\]):(\d+)/i.exec(connectionString ?? '');
  return match ? Number(match[1]) : undefined;
}

/**
 * Where each part of the local stack listens:
 * - the function host: FUNCTIONS_HTTP_PORT, else `Host.LocalHttpPort` in local.settings.json, else 7071;
 * - the ACS emulator: ACS_EMULATOR_PORT (environment, then Values), else the port of the loopback
 *   endpoint in ACS_CONNECTION_STRING (where the function app will look for it), else 7081;
 * - Azurite: AZURITE_BLOB_PORT, AZURITE_QUEUE_PORT, AZURITE_TABLE_PORT (environment, then Values),
 *   else 10000, 10001, 10002.
 * A value that is not a port number throws a PortSettingError naming the setting.
 */
export function resolveLocalPorts(root: string, env: Record<string, string | undefined> = process.env): LocalPorts {
  let file: LocalSettingsFile | undefined;
  try {
    file = readLocalSettingsFile(root);
  } catch (error) {
    // No settings file: the environment and the defaults still say where everything is; a file
    // that is there but broken must not be ignored.
    if (!/neither local\.settings/.test((error as Error).message)) throw error;
  }
  const values = file?.Values ?? {};
  const fileName = file ? path.basename(file.file) : 'local.settings.json';
  const fromEnvOrValues = (name: string) => parsePort(env[name], name) ?? parsePort(values[name], `${name} in ${fileName}`);
  return {
    functions:
      parsePort(env.FUNCTIONS_HTTP_PORT, 'FUNCTIONS_HTTP_PORT') ??
      parsePort(file?.Host.LocalHttpPort, `Host.LocalHttpPort in ${fileName}`) ??
      DEFAULT_PORTS.functions,
    acsEmulator:
      fromEnvOrValues('ACS_EMULATOR_PORT') ??
      acsEndpointPort(env.ACS_CONNECTION_STRING ?? values.ACS_CONNECTION_STRING) ??
      DEFAULT_PORTS.acsEmulator,
    blob: fromEnvOrValues('AZURITE_BLOB_PORT') ?? DEFAULT_PORTS.blob,
    queue: fromEnvOrValues('AZURITE_QUEUE_PORT') ?? DEFAULT_PORTS.queue,
    table: fromEnvOrValues('AZURITE_TABLE_PORT') ?? DEFAULT_PORTS.table,
  };
}

/** How to move a part that found its port taken, for start-up messages. */
export function portHint(name: LocalPortName): string {
  return name === 'functions'
    ? `set FUNCTIONS_HTTP_PORT (or Host.LocalHttpPort in local.settings.json) to another port`
    : `set ${PORT_SETTINGS[name]} to another port`;
}

/** Azurite's well-known development account (public, documented; not a secret). */
export const DEV_ACCOUNT = 'devstoreaccount1';
export const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** The connection string of Azurite on these ports (what "UseDevelopmentStorage=true" means on 10000-10002). */
export function azuriteConnectionString(ports: Pick<LocalPorts, 'blob' | 'queue' | 'table'>, host = '127.0.0.1'): string {
  const base = `http://${host}`;
  return (
    `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};` +
    `BlobEndpoint=${base}:${ports.blob}/${DEV_ACCOUNT};QueueEndpoint=${base}:${ports.queue}/${DEV_ACCOUNT};TableEndpoint=${base}:${ports.table}/${DEV_ACCOUNT};`
  );
}

/**
 * The storage connection string a local tool should use: "UseDevelopmentStorage=true" (the
 * sample's value, which the SDKs read as 10000-10002) becomes Azurite on the resolved ports.
 */
export function localStorageConnectionString(value: string | undefined, ports: LocalPorts): string | undefined {
  return value !== undefined && /^\s*UseDevelopmentStorage\s*=\s*true\s*;?\s*$/i.test(value)
    ? azuriteConnectionString(ports)
    : value;
}
