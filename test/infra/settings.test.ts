// Contract between the code and the compiled infra: every setting shared/settings.ts defines is set by
// infra, passed from the azd environment, or kept from the site as set by hand (merged, never wiped
// by `azd provision`); the tables and queues infra creates are the ones the code uses; the transport
// decides which queue exists; the functions run on Node 22 on Flex Consumption. Read from the ARM JSON
// the Bicep CLI compiled (npm run infra:check), evaluated for real azd environments.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { settingsSchema } from '../../shared/settings.js';
import { DEFAULT_OUTBOUND_QUEUE, TABLES } from '../../shared/resourceNames.js';
import { captureInChild, type CapturedFunction } from '../support/captureRegistrations.js';
import { root } from './armTemplate.js';
import { baseEnv, created, main, optionalEnv, parameterEnv, provision, type Evaluated } from './environments.js';

const schemaKeys = Object.keys(settingsSchema.shape);

/** Settings the code cannot run without in Azure, where every connection is identity-based. */
const REQUIRED_IN_AZURE = [
  'AzureWebJobsStorage__accountName',
  'OUTBOUND_QUEUE_TRANSPORT',
  'OUTBOUND_QUEUE_NAME',
  'ServiceBusConnection__fullyQualifiedNamespace',
  'ACS_ENDPOINT',
  'AZURE_CLIENT_ID',
  'SMS_SENDERS',
  'EVENTGRID_TOPIC_ENDPOINT',
];

/** Read by the Functions host or the platform rather than by the pipeline's code. */
const HOST_SETTING =
  /^(APPLICATIONINSIGHTS_[A-Z0-9_]+|AzureWebJobsStorage__(credential|clientId)|ServiceBusConnection__(credential|clientId))$/;

/**
 * Set on the site by hand and kept by the merge: a secret; prices, which are decimals and ARM has no
 * floating-point type to carry them; endpoint overrides for sovereign clouds.
 */
const SET_BY_HAND = [
  // Azure Monitor by default (auto); set by hand only to stop exporting (none) or to read it in the log stream (console).
  'TELEMETRY_EXPORTER',
  'STATUS_WEBHOOK_SECRET',
  'ANALYTICS_SMS_PRICES',
  'SMS_BUDGETS',
  // Holds each app's webhook secret, and budget prices (decimals).
  'SMS_APPS',
  'AzureWebJobsStorage__tableServiceUri',
  'AzureWebJobsStorage__queueServiceUri',
  // Another issuer than the tenant's (a sovereign cloud, a test issuer): the tenant's are derived.
  'AUTH_ISSUER',
  'AUTH_JWKS_URL',
];

/** Connection strings and keys: local only. Infra must never set them (identity everywhere in Azure). */
const LOCAL_ONLY = [
  'AzureWebJobsStorage',
  'ServiceBusConnection',
  'ACS_CONNECTION_STRING',
  'EVENTGRID_TOPIC_KEY',
  'TELEMETRY_FILE',
];

/** Set by App Service itself. */
const PLATFORM = ['WEBSITE_SITE_NAME'];

const known = (value: string) => !value.includes('«');

let defaults: Evaluated;
let everything: Evaluated;
let storageTransport: Evaluated;

beforeAll(() => {
  defaults = provision(baseEnv);
  everything = provision({ ...baseEnv, ...optionalEnv });
  storageTransport = provision({ ...baseEnv, OUTBOUND_QUEUE_TRANSPORT: 'storage' });
});

describe('every setting the code reads is set by infra, passed from azd, or kept as set by hand', () => {
  it('sets every setting the code needs in Azure, and none the code does not know', () => {
    for (const name of REQUIRED_IN_AZURE) {
      expect(schemaKeys, `settingsSchema has no ${name}`).toContain(name);
      expect(defaults.appSettings[name], `infra does not set ${name}`).toBeDefined();
    }
    for (const name of Object.keys(everything.appSettings)) {
      if (!HOST_SETTING.test(name)) expect(schemaKeys, `${name} is set by infra but not read by the code`).toContain(name);
    }
  });

  it('classifies every key of settingsSchema, and never sets a connection string or key', () => {
    const owned = Object.keys(defaults.appSettings);
    const fromAzd = Object.keys(everything.appSettings).filter((k) => !owned.includes(k));
    for (const name of schemaKeys) {
      const homes = [
        owned.includes(name),
        fromAzd.includes(name),
        SET_BY_HAND.includes(name),
        LOCAL_ONLY.includes(name),
        PLATFORM.includes(name),
      ];
      expect(
        homes.filter(Boolean).length,
        `${name}: set by infra, from azd env, by hand, local only or by the platform — exactly one`,
      ).toBe(1);
    }
    for (const e of [defaults, everything, storageTransport]) {
      for (const name of LOCAL_ONLY) expect(e.appSettings[name], `${name} must never be set in Azure`).toBeUndefined();
    }
  });

  it('passes each azd environment value to the app setting of the same name, unchanged', () => {
    const envOf = parameterEnv();
    for (const [name, value] of Object.entries(optionalEnv)) {
      expect(Object.values(envOf), `main.parameters.json maps ${name}`).toContain(name);
      const set = everything.appSettings[name];
      if (value.startsWith('{')) expect(JSON.parse(set!)).toEqual(JSON.parse(value));
      else expect(set, name).toBe(value);
    }
  });

  it('sets values the code accepts, where they are known before deployment', () => {
    for (const e of [defaults, everything, storageTransport]) {
      for (const [name, value] of Object.entries(e.appSettings)) {
        const field = settingsSchema.shape[name as keyof typeof settingsSchema.shape];
        if (!field || !known(value)) continue;
        const parsed = field.safeParse(value);
        expect(parsed.success, `${name} = ${JSON.stringify(value)}: ${parsed.error?.message ?? ''}`).toBe(true);
      }
    }
  });

  it('keeps settings set by hand across a provision, and replaces only the ones infra owns', () => {
    const byHand = {
      STATUS_WEBHOOK_SECRET: 'whsec_c2VjcmV0LXNldC1ieS1oYW5kLW9uLXRoZS1zaXRl',
      STATUS_WEBHOOK_URLS: 'https://hooks.example.com/sms',
      OPT_OUT_SCOPE: 'pool',
      INBOUND_KEYWORDS: '{"stop":["STOP","ARRET"]}',
      ANALYTICS_SMS_PRICES: '{"tollFree":{"US":0.008}}',
      ACS_ENDPOINT: 'https://an-old-endpoint.communication.azure.com',
      SMS_SENDERS: '[{"number":"+18005550199","type":"tollFree"}]',
    };
    const again = provision(baseEnv, byHand);
    for (const name of [
      'STATUS_WEBHOOK_SECRET',
      'STATUS_WEBHOOK_URLS',
      'OPT_OUT_SCOPE',
      'INBOUND_KEYWORDS',
      'ANALYTICS_SMS_PRICES',
    ]) {
      expect(again.appSettings[name], `${name} set by hand survives azd provision`).toBe(byHand[name as keyof typeof byHand]);
    }
    expect(again.appSettings.ACS_ENDPOINT).not.toBe(byHand.ACS_ENDPOINT);
    expect(JSON.parse(again.appSettings.SMS_SENDERS!)).toEqual(JSON.parse(baseEnv.SMS_SENDERS));
    // A value given to azd wins over the one on the site.
    expect(provision({ ...baseEnv, OPT_OUT_SCOPE: 'sender' }, byHand).appSettings.OPT_OUT_SCOPE).toBe('sender');
  });

  it('leaves SMS_SENDERS alone when azd has none, so the app names it instead of starting with an empty pool', () => {
    const { SMS_SENDERS: _unset, ...withoutSenders } = baseEnv;
    expect(provision(withoutSenders).appSettings.SMS_SENDERS).toBeUndefined();
  });

  it('reads the current settings from the site and receives them as a secure parameter', () => {
    const api = main.resources.find((r) => r.name === 'api')!;
    const apiTemplate = (
      api.properties as {
        template: {
          resources: Array<{
            type: string;
            properties?: {
              parameters?: Record<string, { value: string }>;
              template?: { parameters: Record<string, { type: string }> };
            };
          }>;
        };
      }
    ).template;
    const settingsModule = apiTemplate.resources.find((r) => r.type === 'Microsoft.Resources/deployments')!;
    expect(settingsModule.properties!.parameters!.currentAppSettings!.value).toMatch(
      /^\[list\(format\('\{0\}\/config\/appsettings', resourceId\('Microsoft\.Web\/sites'/,
    );
    expect(settingsModule.properties!.template!.parameters.currentAppSettings!.type).toBe('secureObject');
  });

  it('connects with the user-assigned identity everywhere', () => {
    const s = defaults.appSettings;
    expect(s.AzureWebJobsStorage__credential).toBe('managedidentity');
    expect(s.ServiceBusConnection__credential).toBe('managedidentity');
    expect(s.AZURE_CLIENT_ID).toMatch(/userAssignedIdentities\/id-api-.*\.clientId/);
    expect(s.AzureWebJobsStorage__clientId).toBe(s.AZURE_CLIENT_ID);
    expect(s.ServiceBusConnection__clientId).toBe(s.AZURE_CLIENT_ID);
    expect(s.APPLICATIONINSIGHTS_AUTHENTICATION_STRING).toBe(`ClientId=${s.AZURE_CLIENT_ID};Authorization=AAD`);
    const [site] = created(defaults, 'Microsoft.Web/sites');
    expect((site!.body.identity as { type: string }).type).toBe('UserAssigned');
  });
});

describe('the transport decides which queue exists, and which is granted', () => {
  it('Service Bus (the default): the namespace and its queue, no outbound storage queue', () => {
    expect(defaults.appSettings.OUTBOUND_QUEUE_TRANSPORT).toBe('servicebus');
    expect(created(defaults, 'Microsoft.ServiceBus/namespaces/queues').map((q) => q.name.split('/')[1])).toEqual([
      DEFAULT_OUTBOUND_QUEUE,
    ]);
    const storageQueues = created(defaults, 'Microsoft.Storage/storageAccounts/queueServices/queues').map(
      (q) => q.name.split('/')[2],
    );
    expect(storageQueues).not.toContain(DEFAULT_OUTBOUND_QUEUE);
    expect(defaults.appSettings.OUTBOUND_QUEUE_NAME).toBe(DEFAULT_OUTBOUND_QUEUE);
  });

  it('Storage: the outbound queue pair, granted to the identity; no Service Bus at all', () => {
    expect(storageTransport.appSettings.OUTBOUND_QUEUE_TRANSPORT).toBe('storage');
    expect(created(storageTransport, 'Microsoft.ServiceBus/namespaces')).toEqual([]);
    expect(Object.keys(storageTransport.appSettings).filter((k) => k.startsWith('ServiceBusConnection'))).toEqual([]);
    const queues = created(storageTransport, 'Microsoft.Storage/storageAccounts/queueServices/queues').map(
      (q) => q.name.split('/')[2],
    );
    expect(queues).toEqual(expect.arrayContaining([DEFAULT_OUTBOUND_QUEUE, `${DEFAULT_OUTBOUND_QUEUE}-poison`]));
    const granted = created(storageTransport, 'Microsoft.Authorization/roleAssignments').map((r) => r.scope ?? '');
    for (const q of [DEFAULT_OUTBOUND_QUEUE, `${DEFAULT_OUTBOUND_QUEUE}-poison`])
      expect(
        granted.some((s) => s.endsWith(`/queues/${q}`)),
        q,
      ).toBe(true);
    expect(granted.some((s) => s.includes('Microsoft.ServiceBus'))).toBe(false);
  });
});

describe('infra creates the storage and queues the code uses', () => {
  it('creates exactly the tables in TABLES', () => {
    const tables = created(defaults, 'Microsoft.Storage/storageAccounts/tableServices/tables').map((t) => t.name.split('/')[2]);
    expect([...tables].sort()).toEqual(Object.values(TABLES).sort());
  });

  it('always creates the event outbox and its poison queue, named as EVENTS_QUEUE_NAME says', () => {
    for (const e of [defaults, storageTransport]) {
      const queues = created(e, 'Microsoft.Storage/storageAccounts/queueServices/queues').map((q) => q.name.split('/')[2]);
      expect(queues).toEqual(
        expect.arrayContaining([e.appSettings.EVENTS_QUEUE_NAME, `${e.appSettings.EVENTS_QUEUE_NAME}-poison`]),
      );
    }
  });

  it('configures the Service Bus queue for idempotent, never-silently-dropped jobs', () => {
    const [queue] = created(defaults, 'Microsoft.ServiceBus/namespaces/queues');
    const p = queue!.body.properties as Record<string, unknown>;
    expect(p).toMatchObject({ requiresDuplicateDetection: true, deadLetteringOnMessageExpiration: true, requiresSession: false });
    expect(p.duplicateDetectionHistoryTimeWindow).toBeDefined();
    // The lock must outlast one ACS timeout plus an inline pacing wait.
    const lock = /^PT(?:(\d+)M)?(?:(\d+)S)?$/.exec(String(p.lockDuration));
    expect(lock).not.toBeNull();
    const lockSeconds = Number(lock![1] ?? 0) * 60 + Number(lock![2] ?? 0);
    expect(lockSeconds).toBeGreaterThan(Number(defaults.appSettings.ACS_REQUEST_TIMEOUT_MS) / 1000 + 5);
    expect(lockSeconds).toBeLessThanOrEqual(300);
  });
});

describe('the runtime Azure runs', () => {
  it('runs on Flex Consumption, Node 22, with a deployment container reached with the identity', () => {
    const [site] = created(defaults, 'Microsoft.Web/sites');
    const config = (site!.body.properties as { functionAppConfig: Record<string, Record<string, unknown>> }).functionAppConfig;
    expect(config.runtime).toEqual({ name: 'node', version: '22' });
    expect((config.deployment!.storage as { authentication: { type: string } }).authentication.type).toBe('UserAssignedIdentity');
    expect(config.scaleAndConcurrency).toEqual({ instanceMemoryMB: 2048, maximumInstanceCount: 40 });
    const [plan] = created(defaults, 'Microsoft.Web/serverfarms');
    expect((plan!.body.sku as { name: string }).name).toBe('FC1');
  });

  it('package.json engines admits the Node Azure runs, and the tests run on (npm run test:node22)', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      engines: { node: string };
      scripts: Record<string, string>;
    };
    expect(pkg.engines.node).toMatch(/\b22\b/);
    expect(pkg.scripts['test:node22']).toBeDefined();
  });

  it('offers only regions with Flex Consumption', () => {
    const allowed = main.parameters!.location!.allowedValues as string[];
    expect(allowed).toEqual(
      expect.arrayContaining(['eastus', 'eastus2', 'westus2', 'northeurope', 'swedencentral', 'uksouth', 'australiaeast']),
    );
    expect(() => provision({ ...baseEnv, AZURE_LOCATION: 'westindia' })).toThrow(/not one of its allowed values/);
  });
});

describe('infra targets the functions the app registers', () => {
  let registrations: CapturedFunction[];
  let storageRegistrations: CapturedFunction[];
  const azure = (e: Evaluated, transport: string) => ({
    OUTBOUND_QUEUE_TRANSPORT: transport,
    ServiceBusConnection__fullyQualifiedNamespace: 'x.servicebus.windows.net',
    AzureWebJobsStorage__accountName: 'x',
    ACS_ENDPOINT: 'https://x.communication.azure.com',
    SMS_SENDERS: e.appSettings.SMS_SENDERS!,
  });

  beforeAll(() => {
    for (const built of ['dist/functions/index.js', 'dist/local/host/functionsCore.js']) {
      if (!existsSync(path.join(root, built))) throw new Error(`${built} does not exist: run \`npm run build\` first.`);
    }
    registrations = captureInChild(azure(defaults, 'servicebus'));
    storageRegistrations = captureInChild(azure(storageTransport, 'storage'));
  });

  it('sets every app setting a trigger or binding names as %NAME% (the host resolves them, not the code)', () => {
    for (const [regs, e] of [
      [registrations, defaults],
      [storageRegistrations, storageTransport],
    ] as const) {
      for (const r of regs) {
        for (const b of [r.trigger, ...Object.values(r.bindings)]) {
          for (const [key, value] of Object.entries(b)) {
            for (const m of String(value).matchAll(/%([A-Za-z_]\w*)%/g)) {
              expect(e.appSettings[m[1]!], `${r.name}: ${key} "${value}" needs the app setting ${m[1]}`).toBeDefined();
            }
          }
        }
      }
    }
  });

  it('points sendSms at the queue infra creates for the chosen transport', () => {
    const sb = registrations.find((r) => r.name === 'sendSms')!;
    expect(sb.trigger.type).toBe('serviceBusTrigger');
    expect(sb.trigger.queueName).toBe('%OUTBOUND_QUEUE_NAME%');
    expect(created(defaults, 'Microsoft.ServiceBus/namespaces/queues').map((q) => q.name.split('/')[1])).toContain(
      defaults.appSettings.OUTBOUND_QUEUE_NAME,
    );
    const sq = storageRegistrations.find((r) => r.name === 'sendSms')!;
    expect(sq.trigger.type).toBe('queueTrigger');
    expect(
      created(storageTransport, 'Microsoft.Storage/storageAccounts/queueServices/queues').map((q) => q.name.split('/')[2]),
    ).toContain(storageTransport.appSettings.OUTBOUND_QUEUE_NAME);
  });

  it('gives every binding connection identity-based settings, never a connection string', () => {
    for (const [regs, e] of [
      [registrations, defaults],
      [storageRegistrations, storageTransport],
    ] as const) {
      for (const r of regs) {
        for (const b of [r.trigger, ...Object.values(r.bindings)]) {
          if (typeof b.connection !== 'string' || !/trigger$|^(serviceBus|queue|blob|table)$/i.test(String(b.type))) continue;
          const prefix = b.connection || 'AzureWebJobsStorage';
          expect(
            Object.keys(e.appSettings).filter((k) => k.startsWith(`${prefix}__`)),
            `${r.name}: ${prefix}__*`,
          ).not.toEqual([]);
          expect(e.appSettings[prefix], `${r.name}: ${prefix} would be a connection string`).toBeUndefined();
        }
      }
    }
  });

  it('requires a function key on every HTTP route that changes something', () => {
    for (const r of registrations.filter((x) => x.trigger.type === 'httpTrigger')) {
      const methods = (r.trigger.methods as string[] | undefined) ?? ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
      if (methods.some((m) => !['GET', 'HEAD', 'OPTIONS'].includes(m.toUpperCase()))) {
        expect(String(r.trigger.authLevel ?? 'anonymous'), `${r.name} accepts ${methods.join('/')}`).not.toBe('anonymous');
      }
    }
  });
});
