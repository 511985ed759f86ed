// Starts Azurite (Blob, Queue, Table) from node_modules: persistent in a folder for `npm start`,
// in memory for tests, telemetry off, on chosen or free ports. The child dies with its parent.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { freePort } from './freePort.js';

/** Azurite's well-known development account (public, documented; not a secret). */
export const DEV_ACCOUNT = 'devstoreaccount1';
export const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteOptions {
  /** Folder for persistent data; omitted = in memory. */
  location?: string;
  blobPort?: number;
  queuePort?: number;
  tablePort?: number;
  silent?: boolean;
}

export interface Azurite {
  connectionString: string;
  blobPort: number;
  queuePort: number;
  tablePort: number;
  stop(): Promise<void>;
}

function waitForPort(port: number, deadline: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`Azurite did not listen on ${port} in time`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

export async function startAzurite(options: AzuriteOptions = {}): Promise<Azurite> {
  const blobPort = options.blobPort || (await freePort());
  const queuePort = options.queuePort || (await freePort());
  const tablePort = options.tablePort || (await freePort());
  const require = createRequire(import.meta.url);
  const bin = path.join(path.dirname(require.resolve('azurite/package.json')), 'dist/src/azurite.js');
  const args = [
    bin,
    '--disableTelemetry',
    '--skipApiVersionCheck',
    '--loose',
    '--silent',
    '--blobHost', '127.0.0.1', '--blobPort', String(blobPort),
    '--queueHost', '127.0.0.1', '--queuePort', String(queuePort),
    '--tableHost', '127.0.0.1', '--tablePort', String(tablePort),
  ];
  if (options.location) {
    mkdirSync(options.location, { recursive: true });
    args.push('--location', options.location);
  } else {
    args.push('--inMemoryPersistence');
  }
  const child = spawn(process.execPath, args, { stdio: ['ignore', options.silent === false ? 'inherit' : 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  try {
    const deadline = Date.now() + 30_000;
    await Promise.race([
      Promise.all([waitForPort(blobPort, deadline), waitForPort(queuePort, deadline), waitForPort(tablePort, deadline)]),
      exited.then(() => {
        throw new Error(`Azurite exited during start-up: ${stderr.trim().slice(0, 500)}`);
      }),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    process.removeListener('exit', killOnExit);
    throw error;
  }

  const host = 'http://127.0.0.1';
  return {
    blobPort,
    queuePort,
    tablePort,
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};` +
      `BlobEndpoint=${host}:${blobPort}/${DEV_ACCOUNT};QueueEndpoint=${host}:${queuePort}/${DEV_ACCOUNT};TableEndpoint=${host}:${tablePort}/${DEV_ACCOUNT};`,
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
