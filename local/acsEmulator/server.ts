// ACS SMS emulator (a development tool): a node:http server speaking the ACS SMS REST API for the
// real SmsClient, delivering Event Grid events, with an admin API under /emulator. Wires the parts.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleAdminRequest } from './adminApi.js';
import { DeliveryReportScheduler } from './deliveryReports.js';
import { EventGridDelivery, type DeliveryLogEntry, type SubscriberInfo, type SubscriberOptions } from './eventDelivery.js';
import { deliveryReportBody } from './events.js';
import { FaultInjector } from './faults.js';
import { sendJson } from './http.js';
import { normalizeHandset } from './phoneNumbers.js';
import { SenderRateLimiter } from './rateLimiter.js';
import { SeededRandom } from './seededRandom.js';
import { applySettingsPatch, defaultSettings, type EmulatorSettings, type SettingsPatch } from './settings.js';
import { handleAcsRequest } from './smsApi.js';
import { SmsService } from './smsService.js';
import {
  EmulatorState,
  type DeliveryReport,
  type InboundRecord,
  type InboxMessage,
  type OptOutEntry,
  type RequestLogEntry,
  type SendRecord,
} from './state.js';
import { WorkTracker } from './workTracker.js';

export type { DeliveryReport, InboundRecord, InboxMessage, OptOutEntry, RequestLogEntry, SendRecord } from './state.js';
export type { DeliveryLogEntry, DeliverySchema, SubscriberInfo, SubscriberOptions } from './eventDelivery.js';
export type { EmulatorSettings, FormSettings, HandsetFault, PresetName, RequestFault, SettingsPatch } from './settings.js';
export { PRESETS, publishedForms } from './settings.js';
export type { SenderType } from './phoneNumbers.js';

/** A fixed, documented development key (base64). Not a secret: it only opens this emulator. */
export const DEFAULT_ACCESS_KEY = Buffer.from('acs-sms-emulator-development-key-0123456789').toString('base64');

/** A change to the running emulator's settings; see docs/acs-emulator.md for every field. */
export type AcsEmulatorConfigPatch = SettingsPatch;

export interface AcsEmulatorOptions extends Omit<SettingsPatch, 'senders'> {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Defaults to 127.0.0.1: the admin API is meant for loopback only. */
  host?: string;
  /** Base64 access key for the HMAC signature; defaults to DEFAULT_ACCESS_KEY. */
  accessKey?: string;
  /** The numbers / sender ids the emulated resource owns. */
  senders: NonNullable<SettingsPatch['senders']>;
  /** Event Grid webhook subscribers; each is validated (handshake) unless validate is false. */
  subscribers?: Array<{ url: string } & SubscriberOptions>;
  /** Seed for fault injection and delivery report disorder (default 1). */
  seed?: number;
  /** Receives one line per notable event; numbers are masked and bodies never logged. */
  log?: (line: string) => void;
}

export interface AcsEmulator {
  /** "http://127.0.0.1:PORT", no trailing slash. */
  readonly url: string;
  readonly port: number;
  /** "endpoint=http://127.0.0.1:PORT/;accesskey=KEY", for SmsClient (with allowInsecureConnection). */
  readonly connectionString: string;
  readonly accessKey: string;
  /** What a handset received (delivered sends and STOP/START confirmations), oldest first. */
  inbox(phone: string): InboxMessage[];
  /** Every recipient of every POST /sms answered 202, with its result and repeatability outcome. */
  sends(): SendRecord[];
  /** Changes settings at runtime; throws SettingsError naming the bad fields. */
  configure(patch: AcsEmulatorConfigPatch): void;
  /** Simulates an outage: connections are refused until goOnline(); state survives. */
  goOffline(): Promise<void>;
  goOnline(): Promise<void>;
  /** A handset texts one of the emulator's numbers; resolves with the inbound message id. */
  injectInbound(input: { from: string; to: string; message: string }): Promise<string>;
  /** Adds an Event Grid webhook subscriber (validation handshake unless validate is false). */
  addSubscriber(url: string, opts?: SubscriberOptions): Promise<void>;
  /** Resolves when no delivery report or event delivery (retries included) is pending. */
  idle(): Promise<void>;
  /** Clears all recorded state and pending work and restores the start-up settings; subscribers stay. */
  reset(): void;
  /** Stops the server; no timers or sockets are left behind. */
  close(): Promise<void>;

  /** The current settings. */
  config(): EmulatorSettings;
  removeSubscriber(url: string): boolean;
  subscribers(): SubscriberInfo[];
  /** The delivery report of a message once it is available, as GET renders it; any decoration of the id finds it. */
  deliveryReport(messageId: string): DeliveryReport | undefined;
  deliveryReports(): DeliveryReport[];
  optOuts(): OptOutEntry[];
  inboundMessages(): InboundRecord[];
  /** Every ACS API request, with the status it got and any injected fault. */
  requests(): RequestLogEntry[];
  /** Every event delivery to every subscriber, with attempts and outcome. */
  eventDeliveries(): DeliveryLogEntry[];
  /** Background work units pending (scheduled reports, deliveries). */
  pendingWork(): number;
  /** Completes a manual subscription validation (the validationUrl). */
  confirmManualValidation(code: string): boolean;
}

class AcsEmulatorServer implements AcsEmulator {
  url = '';
  port = 0;
  connectionString = '';
  readonly accessKey: string;

  private settings: EmulatorSettings;
  private readonly initialSettings: EmulatorSettings;
  private readonly seed: number;
  private readonly log: (line: string) => void;
  private readonly state = new EmulatorState();
  private readonly work = new WorkTracker();
  private readonly faultRng: SeededRandom;
  private readonly reportRng: SeededRandom;
  private readonly rateLimiter = new SenderRateLimiter();
  private readonly faults: FaultInjector;
  private readonly delivery: EventGridDelivery;
  private readonly reports: DeliveryReportScheduler;
  private readonly service: SmsService;
  private readonly server: Server;
  private readonly delays = new Map<NodeJS.Timeout, (ran: boolean) => void>();
  private closed = false;

  constructor(options: AcsEmulatorOptions) {
    const { port: _port, host: _host, accessKey, subscribers: _subscribers, seed, log, ...patch } = options;
    this.accessKey = accessKey ?? DEFAULT_ACCESS_KEY;
    if (Buffer.from(this.accessKey, 'base64').length === 0) throw new Error('accessKey must be a non-empty base64 string');
    this.settings = applySettingsPatch(defaultSettings(), patch);
    this.initialSettings = structuredClone(this.settings);
    this.seed = seed ?? 1;
    this.log = log ?? (() => {});
    // Separate streams, so the number of requests does not shift report disorder and vice versa.
    this.faultRng = new SeededRandom(this.seed);
    this.reportRng = new SeededRandom(this.seed ^ 0x5bd1e995);
    this.faults = new FaultInjector(() => this.settings.faults, this.faultRng);
    this.delivery = new EventGridDelivery({
      settings: () => this.settings.eventGrid,
      work: this.work,
      log: this.log,
      validationUrl: (code) => `${this.url}/emulator/subscriptions/validate?code=${encodeURIComponent(code)}`,
    });
    this.reports = new DeliveryReportScheduler({
      settings: () => this.settings.deliveryReports,
      forms: () => this.settings.forms,
      topic: () => this.settings.eventGrid.topic,
      state: this.state,
      delivery: this.delivery,
      work: this.work,
      rng: this.reportRng,
      log: this.log,
    });
    this.service = new SmsService({
      settings: () => this.settings,
      state: this.state,
      faults: this.faults,
      reports: this.reports,
      delivery: this.delivery,
      log: this.log,
    });
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://emulator.invalid');
      const handle =
        url.pathname.startsWith('/emulator/') || url.pathname === '/emulator'
          ? handleAdminRequest(this, req, res, url)
          : handleAcsRequest(
              {
                settings: () => this.settings,
                accessKey: this.accessKey,
                state: this.state,
                service: this.service,
                faults: this.faults,
                rateLimiter: this.rateLimiter,
                delay: (ms) => this.delay(ms),
                log: this.log,
              },
              req,
              res,
              url,
            );
      handle.catch((error: unknown) => {
        this.log(
          `emulator: internal error on ${req.method} ${url.pathname}: ${error instanceof Error ? error.message : String(error)}`,
        );
        sendJson(res, 500, { error: { code: 'InternalServerError', message: 'The emulator failed to handle the request.' } });
      });
    });
  }

  async listen(port: number, host: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
    this.url = `http://${urlHost}:${this.port}`;
    this.connectionString = `endpoint=${this.url}/;accesskey=${this.accessKey}`;
  }

  /** Waits `ms`; resolves false instead if the emulator closes first. */
  private delay(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.delays.delete(timer);
        resolve(!this.closed);
      }, ms);
      this.delays.set(timer, resolve);
    });
  }

  inbox(phone: string): InboxMessage[] {
    return this.state.inbox(normalizeHandset(phone));
  }

  sends(): SendRecord[] {
    return this.state.sends.map((s) => structuredClone(s));
  }

  configure(patch: AcsEmulatorConfigPatch): void {
    this.settings = applySettingsPatch(this.settings, patch);
  }

  config(): EmulatorSettings {
    return structuredClone(this.settings);
  }

  async injectInbound(input: { from: string; to: string; message: string }): Promise<string> {
    return this.service.injectInbound(input).messageId;
  }

  async addSubscriber(url: string, opts: SubscriberOptions = {}): Promise<void> {
    await this.delivery.addSubscriber(url, opts);
  }

  removeSubscriber(url: string): boolean {
    return this.delivery.removeSubscriber(url);
  }

  subscribers(): SubscriberInfo[] {
    return this.delivery.list();
  }

  deliveryReport(messageId: string): DeliveryReport | undefined {
    // Lenient, unlike GET /deliveryReports/{id} by default: any decoration of the id finds the report.
    const report = this.state.reportByAnyDecoration(messageId);
    return report ? deliveryReportBody(report, this.settings.forms) : undefined;
  }

  deliveryReports(): DeliveryReport[] {
    return this.state.reportList().map((r) => deliveryReportBody(r, this.settings.forms));
  }

  optOuts(): OptOutEntry[] {
    return this.state.optOutList();
  }

  inboundMessages(): InboundRecord[] {
    return this.state.inbound.map((i) => ({ ...i }));
  }

  requests(): RequestLogEntry[] {
    return this.state.requests.map((r) => ({ ...r }));
  }

  eventDeliveries(): DeliveryLogEntry[] {
    return this.delivery.deliveries();
  }

  pendingWork(): number {
    return this.work.count;
  }

  confirmManualValidation(code: string): boolean {
    return this.delivery.confirmManualValidation(code);
  }

  idle(): Promise<void> {
    return this.work.idle();
  }

  reset(): void {
    this.work.cancelAll();
    this.reports.reset();
    this.delivery.cancelPending();
    this.state.clear();
    this.rateLimiter.reset();
    this.settings = structuredClone(this.initialSettings);
    this.faultRng.reseed(this.seed);
    this.reportRng.reseed(this.seed ^ 0x5bd1e995);
    this.log('emulator: reset');
  }

  /** An outage: the endpoint refuses connections, while state (inboxes, repeatability ids) survives, as in ACS. */
  async goOffline(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** The end of an outage: the same endpoint answers again. */
  async goOnline(): Promise<void> {
    const host = new URL(this.url).hostname.replace(/^\[|\]$/g, '');
    await this.listen(this.port, host);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [timer, resolve] of this.delays) {
      clearTimeout(timer);
      resolve(false);
    }
    this.delays.clear();
    this.work.cancelAll();
    this.reports.reset();
    this.delivery.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      // Keep-alive sockets (the SDK's agent) and held "timed out" requests would keep close() waiting.
      this.server.closeAllConnections();
    });
  }
}

/** Starts the emulator; with subscribers to validate, it resolves once their handshakes passed. */
export async function startAcsEmulator(options: AcsEmulatorOptions): Promise<AcsEmulator> {
  const emulator = new AcsEmulatorServer(options);
  await emulator.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  try {
    for (const { url, ...subscriberOptions } of options.subscribers ?? []) await emulator.addSubscriber(url, subscriberOptions);
  } catch (error) {
    await emulator.close();
    throw error;
  }
  (options.log ?? (() => {}))(
    `emulator: ACS SMS emulator listening on ${emulator.url} with ${emulator.config().senders.length} sender(s)`,
  );
  return emulator;
}
