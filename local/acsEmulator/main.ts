// CLI for the ACS SMS emulator (a development tool): starts it from environment variables and
// stops it cleanly on SIGINT/SIGTERM. `node dist/local/acsEmulator/main.js`.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SettingsError, type SettingsPatch } from './settings.js';
import { startAcsEmulator, type AcsEmulator, type DeliverySchema } from './server.js';
import { resolveLocalPorts } from '../localSettings.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function fail(message: string): never {
  console.error(`acs-emulator: ${message}`);
  process.exit(2);
}

function parseJsonEnv<T>(name: string, fallback: T): T {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  try {
    return JSON.parse(raw) as T;
  } catch (error) {
    fail(`${name} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** ACS_EMULATOR_SENDERS: a JSON array of numbers or { number, type?, ratePerMinute?, burst? }. */
function senders(): NonNullable<SettingsPatch['senders']> {
  const value = parseJsonEnv<unknown>('ACS_EMULATOR_SENDERS', [{ number: '+18005550100', type: 'tollFree' }]);
  if (!Array.isArray(value) || value.length === 0) fail('ACS_EMULATOR_SENDERS must be a non-empty JSON array');
  return value.map((s: unknown) => (typeof s === 'string' ? { number: s } : s)) as NonNullable<SettingsPatch['senders']>;
}

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) fail(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

/** Subscribers may start after the emulator (the Functions host): keep trying the handshake a while. */
async function subscribeWithRetry(
  emulator: AcsEmulator,
  url: string,
  options: { validate: boolean; schema: DeliverySchema },
  stopped: () => boolean,
): Promise<void> {
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    try {
      await emulator.addSubscriber(url, options);
      console.log(`acs-emulator: subscribed ${url}`);
      return;
    } catch (error) {
      if (stopped() || Date.now() > deadline) {
        console.error(`acs-emulator: could not subscribe ${url}: ${error instanceof Error ? error.message : String(error)}`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 2000).unref());
    }
  }
}

async function main(): Promise<void> {
  const config = parseJsonEnv<Omit<SettingsPatch, 'senders'>>('ACS_EMULATOR_CONFIG', {});
  let emulator: AcsEmulator;
  // The same port `npm start` gives it (ACS_EMULATOR_PORT, else the ACS_CONNECTION_STRING endpoint's).
  let port = 0;
  try {
    port = resolveLocalPorts(root).acsEmulator;
  } catch (error) {
    fail((error as Error).message);
  }
  try {
    emulator = await startAcsEmulator({
      ...config,
      port,
      host: process.env.ACS_EMULATOR_HOST || '127.0.0.1',
      ...(process.env.ACS_EMULATOR_ACCESS_KEY ? { accessKey: process.env.ACS_EMULATOR_ACCESS_KEY } : {}),
      senders: senders(),
      seed: intEnv('ACS_EMULATOR_SEED', 1),
      log: (line) => console.log(`acs-emulator: ${line}`),
    });
  } catch (error) {
    if (error instanceof SettingsError) fail(error.message);
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
      fail(`port ${port} is already in use by another process; set ACS_EMULATOR_PORT to another port`);
    fail(error instanceof Error ? error.message : String(error));
  }
  console.log(`acs-emulator: ACS_CONNECTION_STRING=${emulator.connectionString}`);
  console.log(`acs-emulator: admin API at ${emulator.url}/emulator/health`);

  let stopping = false;
  const validate = process.env.ACS_EMULATOR_VALIDATE_SUBSCRIBERS !== 'false';
  const schemaEnv = process.env.ACS_EMULATOR_SUBSCRIBER_SCHEMA || 'EventGridSchema';
  if (schemaEnv !== 'EventGridSchema' && schemaEnv !== 'CloudEventSchemaV1_0')
    fail('ACS_EMULATOR_SUBSCRIBER_SCHEMA must be EventGridSchema or CloudEventSchemaV1_0');
  const schema: DeliverySchema = schemaEnv;
  const urls = (process.env.ACS_EMULATOR_SUBSCRIBERS ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  for (const url of urls) void subscribeWithRetry(emulator, url, { validate, schema }, () => stopping);

  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`acs-emulator: ${signal}, stopping`);
    await emulator.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

void main();
