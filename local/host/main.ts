// `node dist/local/host/main.js [--port 7071] [--settings-from-env]`: the local function host for
// package.json's main entry. Settings come from local.settings.json (Values) unless
// --settings-from-env says the environment already holds them (the local stack and tests).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalHost } from './server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const args = process.argv.slice(2);
const portArg = args.indexOf('--port');
const port = Number(portArg >= 0 ? args[portArg + 1] : (process.env.FUNCTIONS_HTTP_PORT ?? 7071));

if (!args.includes('--settings-from-env')) {
  const file = path.join(root, 'local.settings.json');
  if (existsSync(file)) {
    const values = (JSON.parse(readFileSync(file, 'utf8')) as { Values?: Record<string, string> }).Values ?? {};
    for (const [k, v] of Object.entries(values)) process.env[k] ??= v;
  }
}

const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { main: string };
try {
  const host = await startLocalHost({ entry: path.join(root, pkg.main), port, hostJsonPath: path.join(root, 'host.json') });
  const stop = async () => {
    await host.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
