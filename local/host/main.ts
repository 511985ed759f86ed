// `node dist/local/host/main.js [--port 7071] [--settings-from-env]`: the local function host for
// package.json's main entry. Settings come from local.settings.json (Values) unless
// --settings-from-env says the environment already holds them (the local stack and tests). The
// port is --port, else FUNCTIONS_HTTP_PORT or Host.LocalHttpPort (local/localSettings.ts); 0 binds
// any free port. A parent that started it with an IPC channel is told the port it really bound,
// so readiness is this process's word, not whatever answers on a port.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalHost } from './server.js';
import { localStorageConnectionString, PortInUseError, resolveLocalPorts } from '../localSettings.js';

/** What the host tells a parent that started it with an IPC channel. */
export type HostMessage = { type: 'listening'; port: number } | { type: 'portInUse'; port: number };

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const args = process.argv.slice(2);
const portArg = args.indexOf('--port');

const tell = (message: HostMessage) => process.send?.(message);

try {
  if (!args.includes('--settings-from-env')) {
    const file = path.join(root, 'local.settings.json');
    if (existsSync(file)) {
      const values = (JSON.parse(readFileSync(file, 'utf8')) as { Values?: Record<string, string> }).Values ?? {};
      for (const [k, v] of Object.entries(values)) process.env[k] ??= v;
    }
    // "UseDevelopmentStorage=true" means Azurite on the ports the README's settings give it.
    const storage = localStorageConnectionString(process.env.AzureWebJobsStorage, resolveLocalPorts(root));
    if (storage) process.env.AzureWebJobsStorage = storage;
  }
  const port = portArg >= 0 ? Number(args[portArg + 1]) : resolveLocalPorts(root).functions;

  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { main: string };
  const host = await startLocalHost({ entry: path.join(root, pkg.main), port, hostJsonPath: path.join(root, 'host.json') }).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        tell({ type: 'portInUse', port });
        throw new PortInUseError(port, 'the function host');
      }
      throw error;
    },
  );
  tell({ type: 'listening', port: host.port });
  const stop = async () => {
    await host.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  // The parent's channel closing means the parent died: a host left behind would hold its port.
  process.on('disconnect', () => void stop());
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
