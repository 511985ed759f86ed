// The whole pipeline on one machine: Azurite, the ACS SMS emulator, the local function host and,
// when OUTBOUND_QUEUE_TRANSPORT is "servicebus", the Service Bus stand-in — wired the way Azure
// wires them (Event Grid subscriptions → the host's Event Grid webhook).
// `npm start` runs it on the ports local/localSettings.ts resolves, with persistent data; tests run
// it in memory on ports the OS picks (every part binds port 0 and says which port it got, so ~20
// stacks starting at once cannot race for a port).
import { createServer } from 'node:net';
import path from 'node:path';
import { startAzurite } from './azurite.js';
import { startAcsEmulator, type AcsEmulator, type AcsEmulatorOptions } from './acsEmulator/server.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { BICEP_QUEUE_DEFAULTS } from './serviceBus/entities.js';
import { startServiceBusStandIn, type ServiceBusStandIn } from './serviceBus/server.js';
import { loadConfig } from '../shared/config.js';
import { buildServices } from '../shared/composition.js';
import { PortInUseError, readLocalSettings } from './localSettings.js';
import type { HostMessage } from './host/main.js';
import { startTokenIssuer, type LocalTokenIssuer } from './tokenIssuer.js';

export { readLocalSettings } from './localSettings.js';

export interface LocalStackOptions {
  /** Repository root (where package.json and host.json are). */
  root: string;
  /** Settings for the function app; defaults to local.settings.json, else local.settings.sample.json. */
  settings?: Record<string, string>;
  /** Extra settings layered over `settings`. */
  env?: Record<string, string>;
  /** Port of the function host; 0 picks a free one. Default 7071. */
  hostPort?: number;
  /** Port of the ACS emulator; 0 picks a free one. Default: the port of ACS_CONNECTION_STRING's endpoint, else 7081. */
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
  /** Where the local test issuer keeps its key (npm start: .local-issuer.json, for npm run token); default in memory. */
  tokenIssuerFile?: string;
}

/** The function host, running in its own process as the Functions host would. */
export interface HostProcess {
  readonly process: ChildProcess;
  /** The port it listens on (the one it bound, when it was asked for 0). */
  readonly port: number;
  /** Stops it: SIGTERM for a clean stop, SIGKILL to simulate a crash. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface LocalStack {
  hostUrl: string;
  host: HostProcess;
  emulator: AcsEmulator;
  /** The Service Bus stand-in, when the stack runs on that transport. */
  serviceBus?: ServiceBusStandIn;
  /** The local test issuer of Entra ID tokens, when AUTH_MODE is entra or both and no AUTH_JWKS_URL is given. */
  tokens?: LocalTokenIssuer;
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

/** How many of the stack's last log lines an error that stops start-up carries. */
const LAST_LINES = 40;

/** Fails with PortInUseError when another process holds one of these fixed ports (0 is "any"). */
async function assertPortsFree(ports: Array<{ port: number; part: string }>): Promise<void> {
  for (const { port, part } of ports) {
    if (!port) continue;
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (!free) throw new PortInUseError(port, part);
  }
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const recent: string[] = [];
  const givenLog = options.log ?? ((line: string) => console.log(line));
  const log = (line: string) => {
    recent.push(line);
    if (recent.length > LAST_LINES) recent.shift();
    givenLog(line);
  };
  const settings = { ...(options.settings ?? readLocalSettings(options.root)), ...(options.env ?? {}) };
  const acsMatch = /endpoint=https?:\/\/[^:/;]+:(\d+)/i.exec(settings.ACS_CONNECTION_STRING ?? '');
  const emulatorPort = options.emulatorPort ?? (acsMatch ? Number(acsMatch[1]) : 7081);
  const requestedHostPort = options.hostPort ?? 7071;
  const azuriteOptions = { ...(options.azurite ?? {}), silent: true, log: (line: string) => log(`[azurite] ${line}`) };

  const stops: Array<() => Promise<void>> = [];
  try {
    // Fixed ports (npm start) are checked first, so a taken one is named before anything starts.
    await assertPortsFree([
      { port: options.azurite?.blobPort ?? 0, part: 'Azurite Blob' },
      { port: options.azurite?.queuePort ?? 0, part: 'Azurite Queue' },
      { port: options.azurite?.tablePort ?? 0, part: 'Azurite Table' },
      { port: emulatorPort, part: 'the ACS SMS emulator' },
      { port: requestedHostPort, part: 'the function host' },
    ]);
    // Token auth without an issuer of its own: the local test issuer plays Entra ID's part.
    let tokens: LocalTokenIssuer | undefined;
    if ((settings.AUTH_MODE === 'entra' || settings.AUTH_MODE === 'both') && !settings.AUTH_JWKS_URL) {
      const issuer = await startTokenIssuer({
        ...(options.tokenIssuerFile ? { keyFile: options.tokenIssuerFile } : {}),
        ...(settings.AUTH_ISSUER ? { issuer: settings.AUTH_ISSUER } : {}),
        ...(settings.AUTH_AUDIENCE ? { audience: settings.AUTH_AUDIENCE.split(',')[0]!.trim() } : {}),
      });
      tokens = issuer;
      stops.unshift(() => issuer.close());
      Object.assign(settings, {
        AUTH_ISSUER: issuer.issuer,
        AUTH_AUDIENCE: settings.AUTH_AUDIENCE || issuer.audience,
        AUTH_JWKS_URL: issuer.jwksUrl,
      });
      log(`[token-issuer] keys at ${issuer.jwksUrl}, issuer ${issuer.issuer}, audience ${issuer.audience}`);
    }

    let azurite = await startAzurite(azuriteOptions);
    stops.push(() => azurite.stop());
    settings.AzureWebJobsStorage = azurite.connectionString;
    // Before the services are built: the Service Bus transport needs its connection to exist.
    const serviceBus = await startServiceBus(settings, options, log);
    if (serviceBus) stops.unshift(() => serviceBus.close());
    // In Azure, infra creates the tables and the queue; here the stack does, before the host starts.
    await buildServices(loadConfig(settings)).ensureStorage();
    if (options.hostStorage) settings.AzureWebJobsStorage = await options.hostStorage(azurite.connectionString);

    const senders = JSON.parse(settings.SMS_SENDERS ?? '[]') as Array<{ number: string; type?: string; ratePerMinute?: number }>;
    const accessKey = /accesskey=([^;]+)/i.exec(settings.ACS_CONNECTION_STRING ?? '')?.[1];
    const emulator = await startAcsEmulator({
      port: emulatorPort,
      ...(accessKey ? { accessKey } : {}),
      senders: senders.map((s) => ({ number: s.number, ...(s.type ? { type: s.type as never } : {}) })),
      log: (line) => log(`[acs-emulator] ${line}`),
      ...options.emulator,
    }).catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'EADDRINUSE' ? new PortInUseError(emulatorPort, 'the ACS SMS emulator') : error;
    });
    stops.unshift(() => emulator.close());
    settings.ACS_CONNECTION_STRING = `endpoint=${emulator.url.replace(/\/?$/, '/')};accesskey=${accessKey ?? emulator.accessKey}`;

    let host = await startHostProcess(options.root, requestedHostPort, settings, log);
    stops.unshift(() => host.stop());
    // A restarted host takes the port the first one had: the Event Grid subscriptions point there.
    const hostPort = host.port;
    const hostUrl = `http://127.0.0.1:${hostPort}`;
    const webhook = (name: string) => `${hostUrl}/runtime/webhooks/EventGrid?functionName=${name}`;
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
      ...(tokens ? { tokens } : {}),
      storageConnectionString: azurite.connectionString,
      settings,
      async stopStorage() {
        await azurite.stop();
      },
      async startStorage() {
        azurite = await startAzurite({
          ...azuriteOptions,
          blobPort: azurite.blobPort,
          queuePort: azurite.queuePort,
          tablePort: azurite.tablePort,
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
        host = await startHostProcess(options.root, hostPort, settings, log);
      },
      async stop() {
        for (const stop of stops) await stop().catch(() => undefined);
      },
    };
    return stack;
  } catch (error) {
    for (const stop of stops) await stop().catch(() => undefined);
    // A port in use is the whole story; anything else comes with what the parts said last.
    if (error instanceof PortInUseError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`the local stack did not start: ${message}\nits last log lines:\n  ${recent.join('\n  ') || '(none)'}`, {
      cause: error,
    });
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

/**
 * Starts `node dist/local/host/main.js` with exactly these settings and waits until that process
 * says it listens (over its IPC channel, with the port it bound: 0 picks a free one).
 */
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
      env: { ...process.env, ...settings },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  );
  const output: string[] = [];
  const forward = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      output.push(line);
      if (output.length > LAST_LINES) output.shift();
      log(`[functions] ${line}`);
    }
  };
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let timer: NodeJS.Timeout | undefined;
  let portInUse = false;
  const listening = new Promise<number>((resolve, reject) => {
    child.on('message', (message: HostMessage) => {
      if (message.type === 'listening') resolve(message.port);
      if (message.type === 'portInUse') portInUse = true;
    });
    void exited.then(() => {
      // Let the last output arrive before it is quoted.
      setImmediate(() =>
        reject(
          portInUse
            ? new PortInUseError(port, 'the function host')
            : new Error(
                `the function host exited with code ${child.exitCode ?? child.signalCode} during start-up:\n  ${output.join('\n  ') || '(no output)'}`,
              ),
        ),
      );
    });
    timer = setTimeout(
      () => reject(new Error(`the function host did not start within 30 s:\n  ${output.join('\n  ') || '(no output)'}`)),
      30_000,
    );
  });
  let bound: number;
  try {
    bound = await listening;
  } catch (error) {
    child.kill('SIGKILL');
    process.removeListener('exit', killOnExit);
    throw error;
  } finally {
    clearTimeout(timer);
  }

  return {
    process: child,
    port: bound,
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
