// The whole pipeline on one machine: Azurite, the ACS SMS emulator, the local function host and,
// when OUTBOUND_QUEUE_TRANSPORT is "servicebus", the Service Bus stand-in — wired the way Azure
// wires them (Event Grid subscriptions → the host's Event Grid webhook).
// `npm start` runs it with fixed ports and persistent data; tests run it on free ports in memory.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startAzurite } from './azurite.js';
import { startAcsEmulator, type AcsEmulator, type AcsEmulatorOptions } from './acsEmulator/server.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './freePort.js';
import { BICEP_QUEUE_DEFAULTS } from './serviceBus/entities.js';
import { startServiceBusStandIn, type ServiceBusStandIn } from './serviceBus/server.js';
import { loadConfig } from '../shared/config.js';
import { buildServices } from '../shared/composition.js';

export interface LocalStackOptions {
  /** Repository root (where package.json and host.json are). */
  root: string;
  /** Settings for the function app; defaults to local.settings.json, else local.settings.sample.json. */
  settings?: Record<string, string>;
  /** Extra settings layered over `settings`. */
  env?: Record<string, string>;
  /** Port of the function host; 0 picks a free one. Default 7071. */
  hostPort?: number;
  /** Port of the ACS emulator; 0 picks a free one. Default: the port of ACS_CONNECTION_STRING's endpoint. */
  emulatorPort?: number;
  /** Azurite ports; 0 or omitted picks free ones. */
  azurite?: { location?: string; blobPort?: number; queuePort?: number; tablePort?: number };
  /** Emulator options beyond senders/subscribers (faults, delivery report timing …). */
  emulator?: Partial<AcsEmulatorOptions>;
  /**
   * Puts something between the function host and Azurite (the benchmark's counting proxy): gets
   * Azurite's connection string and returns the one the host runs with. Storage is created
   * directly, before the host starts.
   */
  hostStorage?: (azuriteConnectionString: string) => Promise<string>;
  /**
   * The Service Bus stand-in, started when OUTBOUND_QUEUE_TRANSPORT is "servicebus" and no
   * ServiceBusConnection is given. Its queue has infra's settings; lockDurationMs shortens the lock
   * for drills (default: LOCAL_QUEUE_LEASE_SECONDS when that is shorter than infra's minute, so a
   * test that shortens the Storage queue's lease shortens the lock too).
   */
  serviceBus?: { port?: number; lockDurationMs?: number };
  log?: (line: string) => void;
}

/** The function host, running in its own process as the Functions host would. */
export interface HostProcess {
  readonly process: ChildProcess;
  /** Stops it: SIGTERM for a clean stop, SIGKILL to simulate a crash. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface LocalStack {
  hostUrl: string;
  host: HostProcess;
  emulator: AcsEmulator;
  /** The Service Bus stand-in, when the stack runs on that transport. */
  serviceBus?: ServiceBusStandIn;
  storageConnectionString: string;
  /** The settings the function host runs with. */
  settings: Record<string, string>;
  /** Stops Azurite (an outage); data persists only when the stack was given an Azurite location. */
  stopStorage(): Promise<void>;
  /** Starts Azurite again on the same ports and folder. */
  startStorage(): Promise<void>;
  /** Takes the Service Bus stand-in offline (connections dropped and refused; messages and locks kept); a no-op on the Storage transport. */
  stopServiceBus(): Promise<void>;
  startServiceBus(): Promise<void>;
  /** Stops the function host (SIGKILL simulates a crash) and starts it again. */
  restartHost(signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

/** Reads the Values of local.settings.json, or of the sample when there is none. */
export function readLocalSettings(root: string): Record<string, string> {
  for (const name of ['local.settings.json', 'local.settings.sample.json']) {
    const file = path.join(root, name);
    if (existsSync(file)) {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as { Values?: Record<string, string> };
      return { ...(parsed.Values ?? {}) };
    }
  }
  throw new Error('neither local.settings.json nor local.settings.sample.json exists');
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.log ?? ((line: string) => console.log(line));
  const settings = { ...(options.settings ?? readLocalSettings(options.root)), ...(options.env ?? {}) };

  let azurite = await startAzurite({ ...(options.azurite ?? {}), silent: true });
  const stops: Array<() => Promise<void>> = [() => azurite.stop()];
  try {
    settings.AzureWebJobsStorage = azurite.connectionString;
    // Before the services are built: the Service Bus transport needs its connection to exist.
    const serviceBus = await startServiceBus(settings, options, log);
    if (serviceBus) stops.unshift(() => serviceBus.close());
    // In Azure, infra creates the tables and the queue; here the stack does, before the host starts.
    await buildServices(loadConfig(settings)).ensureStorage();
    if (options.hostStorage) settings.AzureWebJobsStorage = await options.hostStorage(azurite.connectionString);

    const hostPort = options.hostPort === 0 ? await freePort() : (options.hostPort ?? 7071);
    const hostUrl = `http://127.0.0.1:${hostPort}`;
    const webhook = (name: string) => `${hostUrl}/runtime/webhooks/EventGrid?functionName=${name}`;

    const acsMatch = /endpoint=https?:\/\/[^:/;]+:(\d+)/i.exec(settings.ACS_CONNECTION_STRING ?? '');
    const emulatorPort = options.emulatorPort ?? (acsMatch ? Number(acsMatch[1]) : 7081);
    const senders = JSON.parse(settings.SMS_SENDERS ?? '[]') as Array<{ number: string; type?: string; ratePerMinute?: number }>;
    const accessKey = /accesskey=([^;]+)/i.exec(settings.ACS_CONNECTION_STRING ?? '')?.[1];
    const emulator = await startAcsEmulator({
      port: emulatorPort,
      ...(accessKey ? { accessKey } : {}),
      senders: senders.map((s) => ({ number: s.number, ...(s.type ? { type: s.type as never } : {}) })),
      log: (line) => log(`[acs-emulator] ${line}`),
      ...options.emulator,
    });
    stops.unshift(() => emulator.close());
    settings.ACS_CONNECTION_STRING = `endpoint=${emulator.url.replace(/\/?$/, '/')};accesskey=${accessKey ?? emulator.accessKey}`;

    const startHost = () => startHostProcess(options.root, hostPort, settings, log);
    let host = await startHost();
    stops.unshift(() => host.stop());
    // Event Grid subscriptions, as infra/ creates them in Azure; the handshake is done by the emulator.
    await emulator.addSubscriber(webhook('deliveryReports'), {
      eventTypes: ['Microsoft.Communication.SMSDeliveryReportReceived'],
    });
    await emulator.addSubscriber(webhook('inboundSms'), { eventTypes: ['Microsoft.Communication.SMSReceived'] });

    const stack: LocalStack = {
      hostUrl,
      get host() {
        return host;
      },
      emulator,
      ...(serviceBus ? { serviceBus } : {}),
      storageConnectionString: azurite.connectionString,
      settings,
      async stopStorage() {
        await azurite.stop();
      },
      async startStorage() {
        azurite = await startAzurite({
          ...(options.azurite ?? {}),
          blobPort: azurite.blobPort,
          queuePort: azurite.queuePort,
          tablePort: azurite.tablePort,
          silent: true,
        });
      },
      async stopServiceBus() {
        await serviceBus?.goOffline();
      },
      async startServiceBus() {
        await serviceBus?.goOnline();
      },
      async restartHost(signal: NodeJS.Signals = 'SIGTERM') {
        await host.stop(signal);
        host = await startHost();
      },
      async stop() {
        for (const stop of stops) await stop().catch(() => undefined);
      },
    };
    return stack;
  } catch (error) {
    for (const stop of stops) await stop().catch(() => undefined);
    throw error;
  }
}

/**
 * The stand-in for the Service Bus transport, with the outbound queue, when the settings ask for
 * that transport and name no namespace of their own; its connection string (UseDevelopmentEmulator=true,
 * so the SDK speaks plain AMQP to it) goes into ServiceBusConnection.
 */
async function startServiceBus(
  settings: Record<string, string>,
  options: LocalStackOptions,
  log: (line: string) => void,
): Promise<ServiceBusStandIn | undefined> {
  if (settings.OUTBOUND_QUEUE_TRANSPORT !== 'servicebus' || settings.ServiceBusConnection) return undefined;
  const leaseMs = Number(settings.LOCAL_QUEUE_LEASE_SECONDS) * 1000;
  const lockDurationMs =
    options.serviceBus?.lockDurationMs ?? (leaseMs > 0 && leaseMs < BICEP_QUEUE_DEFAULTS.lockDurationMs ? leaseMs : undefined);
  const standIn = await startServiceBusStandIn({
    port: options.serviceBus?.port ?? 0,
    queues: [{ name: settings.OUTBOUND_QUEUE_NAME || 'sms-outbound', ...(lockDurationMs ? { lockDurationMs } : {}) }],
    log,
  });
  settings.ServiceBusConnection = standIn.connectionString;
  return standIn;
}

/** Starts `node dist/local/host/main.js` with exactly these settings and waits until it answers. */
export async function startHostProcess(
  root: string,
  port: number,
  settings: Record<string, string>,
  log: (line: string) => void,
): Promise<HostProcess> {
  const child = spawn(
    process.execPath,
    [path.join(root, 'dist/local/host/main.js'), '--port', String(port), '--settings-from-env'],
    {
      cwd: root,
      env: { ...process.env, ...settings, FUNCTIONS_HTTP_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const forward = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) log(`[functions] ${line}`);
  };
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the function host exited with code ${child.exitCode} during start-up`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/admin/host/status`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('the function host did not start within 30 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    process: child,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
