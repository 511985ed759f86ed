// Starts Azurite (Blob, Queue, Table) from node_modules: persistent in a folder for `npm start`,
// in memory for tests, telemetry off, on chosen ports or on ports the OS picks. The child dies
// with its parent.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { azuriteConnectionString, PortInUseError } from './localSettings.js';

export { DEV_ACCOUNT, DEV_KEY } from './localSettings.js';

export interface AzuriteOptions {
  /** Folder for persistent data; omitted = in memory. */
  location?: string;
  /** 0 or omitted: a port the OS picks, read back from Azurite itself (no port race). */
  blobPort?: number;
  queuePort?: number;
  tablePort?: number;
  silent?: boolean;
  /** Azurite's own start-up lines and errors. */
  log?: (line: string) => void;
}

export interface Azurite {
  connectionString: string;
  blobPort: number;
  queuePort: number;
  tablePort: number;
  stop(): Promise<void>;
}

const SERVICES = ['Blob', 'Queue', 'Table'] as const;
type Service = (typeof SERVICES)[number];

export async function startAzurite(options: AzuriteOptions = {}): Promise<Azurite> {
  const requested: Record<Service, number> = {
    Blob: options.blobPort ?? 0,
    Queue: options.queuePort ?? 0,
    Table: options.tablePort ?? 0,
  };
  const require = createRequire(import.meta.url);
  const bin = path.join(path.dirname(require.resolve('azurite/package.json')), 'dist/src/azurite.js');
  const args = [
    bin,
    '--disableTelemetry',
    '--skipApiVersionCheck',
    '--loose',
    '--silent',
    ...SERVICES.flatMap((s) => [`--${s.toLowerCase()}Host`, '127.0.0.1', `--${s.toLowerCase()}Port`, String(requested[s])]),
  ];
  if (options.location) {
    mkdirSync(options.location, { recursive: true });
    args.push('--location', options.location);
  } else {
    args.push('--inMemoryPersistence');
  }
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  // Readiness is what this child says: "Azurite Blob service is successfully listening at
  // http://127.0.0.1:PORT", with the port it really bound — not whatever answers on a port.
  const listening: Partial<Record<Service, number>> = {};
  const output: string[] = [];
  let ready!: () => void;
  const allListening = new Promise<void>((resolve) => (ready = resolve));
  const onLine = (line: string) => {
    if (!line.trim()) return;
    output.push(line);
    if (output.length > 20) output.shift();
    if (options.silent === false) console.log(line);
    options.log?.(line);
    const match = /Azurite (Blob|Queue|Table) service is successfully listening at https?:\/\/[^\s]*:(\d+)/.exec(line);
    if (match) {
      listening[match[1] as Service] = Number(match[2]);
      if (SERVICES.every((s) => listening[s])) ready();
    }
  };
  const lines = (chunk: Buffer) => chunk.toString('utf8').split('\n').forEach(onLine);
  child.stdout?.on('data', lines);
  child.stderr?.on('data', lines);

  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      allListening,
      exited.then(() => {
        const taken = /EADDRINUSE[^\n]*?:(\d+)/.exec(output.join('\n'));
        if (taken) {
          const port = Number(taken[1]);
          const service = SERVICES.find((s) => requested[s] === port);
          throw new PortInUseError(port, service ? `Azurite ${service}` : 'Azurite');
        }
        throw new Error(`Azurite exited during start-up:\n  ${output.join('\n  ')}`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Azurite did not start within 30 s:\n  ${output.join('\n  ')}`)), 30_000);
      }),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    process.removeListener('exit', killOnExit);
    throw error;
  } finally {
    clearTimeout(timer);
  }

  const ports = { blob: listening.Blob!, queue: listening.Queue!, table: listening.Table! };
  return {
    blobPort: ports.blob,
    queuePort: ports.queue,
    tablePort: ports.table,
    connectionString: azuriteConnectionString(ports),
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
