// The configuration: every setting (shared/settings.ts) parsed once from the environment and
// cross-checked. A missing or malformed setting stops start-up with a message that names it and
// says what is expected.
import type { AppDirectory } from './domain/apps.js';
import { budgetRules, type BudgetPolicy } from './domain/budget.js';
import { DEFAULT_PUMPING_POLICY, type PumpingPolicy } from './domain/fraudWatch.js';
import { defaultAllowedCountries, type AllowedCountries } from './domain/geo.js';
import { keywordConflicts, keywordsFor, type InboundPolicy } from './domain/inboundPolicy.js';
import { mergePrices, type PriceTable } from './domain/pricing.js';
import { senderWithDefaults, type Sender } from './domain/sender.js';
import type { LinkPolicy } from './domain/links.js';
import type { RetentionPolicy } from './domain/retention.js';
import type { SendRules } from './domain/sendRules.js';
import { settingsSchema } from './settings.js';
import { appBudgetsOf, appProblems, appsOf } from './settingsApps.js';
import { linkPolicyOf } from './settingsLinks.js';
import { authOf, type AuthConfig } from './settingsAuth.js';

/** The parsed, cross-checked configuration the rest of the code uses. */
export interface Config {
  storage:
    | { kind: 'connectionString'; connectionString: string }
    | { kind: 'identity'; tableUrl: string; queueUrl: string; clientId?: string };
  outboundQueue: {
    transport: 'servicebus' | 'storage';
    name: string;
    serviceBus?:
      | { kind: 'connectionString'; connectionString: string }
      | { kind: 'identity'; fullyQualifiedNamespace: string; clientId?: string };
  };
  acs:
    | { kind: 'connectionString'; connectionString: string; endpoint: string }
    | { kind: 'identity'; endpoint: string; clientId?: string };
  senders: Sender[];
  maxSegments: number;
  sendMaxAttempts: number;
  acsRequestTimeoutMs: number;
  /** What a hand-over whose outcome cannot be known becomes (see pipeline/send/uncertain.ts). */
  uncertainPolicy: 'atMostOnce' | 'atLeastOnce';
  /** How often the recovery timer runs, and the six-field NCRONTAB schedule that says so. */
  recovery: { intervalMs: number; schedule: string };
  reconcile: { afterMs: number; deadlineMs: number; schedule: string };
  /** The event outbox, the CloudEvents source of the pipeline's events and the first retry delay. */
  events: { queueName: string; source: string; retryBaseMs: number };
  /** Webhooks: URLs, the signing secret setting (validated), and the event types they get (all when absent). */
  webhooks: { urls: string[]; secret?: string; eventTypes?: string[] };
  /** The Event Grid topic: a key locally, else the managed identity named by clientId. */
  eventGrid?: { endpoint: string; key?: string; clientId?: string };
  /** Keywords, replies and opt-out scope for inbound texts (shared/domain/inboundPolicy.ts). */
  inbound: InboundPolicy & { mirrorOptOutsToAcs: boolean };
  /** Analytics: the response-rate window and the price list of the cost estimate. */
  analytics: { responseWindowMs: number; prices: PriceTable };
  /** Traces, metrics and logs (shared/adapters/telemetry): where they go, and under which service name. */
  telemetry: TelemetryConfig;
  /** The fraud and spend guard: geo permissions, budgets, pumping detection (docs/security.md). */
  guard: { allowedCountries: AllowedCountries; budgets: BudgetPolicy; pumping: PumpingPolicy };
  /** Tracked short links (LINK_*, docs/links.md). */
  links: LinkPolicy;
  /** Who may call the HTTP API: function keys, Entra ID tokens, or both (AUTH_*, docs/security.md). */
  auth: AuthConfig;
  /** Send rules that protect recipients: categories, quiet hours (docs/sending.md). */
  sendRules: SendRules;
  /** How long texts, records and conversation entries are kept (docs/security.md). */
  retention: RetentionPolicy;
  /** The apps of SMS_APPS: own pools, defaults, webhooks (docs/security.md "Apps"); their budgets are in guard.budgets. */
  apps: AppDirectory;
}

export type TelemetryConfig =
  | { exporter: 'none' | 'console' | 'memory'; serviceName: string }
  | { exporter: 'file'; serviceName: string; file: string }
  | {
      exporter: 'azureMonitor';
      serviceName: string;
      connectionString: string;
      /** Entra authentication (APPLICATIONINSIGHTS_AUTHENTICATION_STRING): the managed identity, a user-assigned one by client id. */
      entra?: { clientId?: string };
    };

/** A setting is missing or malformed; the message names every such setting. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses and cross-checks settings; throws ConfigError naming each bad setting. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings are what an unset app setting looks like in some hosts; treat them as unset.
  const raw: Record<string, string> = {};
  for (const key of Object.keys(settingsSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? 'settings');
        const message = issue.code === 'invalid_type' && raw[name] === undefined ? 'is required' : issue.message;
        return `${name} ${message}`;
      }),
    );
  }
  const s = parsed.data;
  const problems: string[] = [];

  let storage: Config['storage'] | undefined;
  if (s.AzureWebJobsStorage) {
    storage = { kind: 'connectionString', connectionString: s.AzureWebJobsStorage };
  } else if (
    s.AzureWebJobsStorage__accountName ||
    (s.AzureWebJobsStorage__tableServiceUri && s.AzureWebJobsStorage__queueServiceUri)
  ) {
    const account = s.AzureWebJobsStorage__accountName;
    storage = {
      kind: 'identity',
      tableUrl: s.AzureWebJobsStorage__tableServiceUri ?? `https://${account}.table.core.windows.net`,
      queueUrl: s.AzureWebJobsStorage__queueServiceUri ?? `https://${account}.queue.core.windows.net`,
      ...(s.AZURE_CLIENT_ID ? { clientId: s.AZURE_CLIENT_ID } : {}),
    };
  } else {
    problems.push(
      'AzureWebJobsStorage is required: a connection string locally, or AzureWebJobsStorage__accountName for identity-based access in Azure',
    );
  }

  let serviceBus: Config['outboundQueue']['serviceBus'];
  if (s.OUTBOUND_QUEUE_TRANSPORT === 'servicebus') {
    if (s.ServiceBusConnection) serviceBus = { kind: 'connectionString', connectionString: s.ServiceBusConnection };
    else if (s.ServiceBusConnection__fullyQualifiedNamespace)
      serviceBus = {
        kind: 'identity',
        fullyQualifiedNamespace: s.ServiceBusConnection__fullyQualifiedNamespace,
        ...(s.AZURE_CLIENT_ID ? { clientId: s.AZURE_CLIENT_ID } : {}),
      };
    else
      problems.push(
        'ServiceBusConnection__fullyQualifiedNamespace is required when OUTBOUND_QUEUE_TRANSPORT is "servicebus" (or ServiceBusConnection with a connection string)',
      );
  }

  let acs: Config['acs'] | undefined;
  if (s.ACS_CONNECTION_STRING) {
    const endpoint = /endpoint=([^;]+)/i.exec(s.ACS_CONNECTION_STRING)?.[1] ?? '';
    if (!URL.canParse(endpoint)) problems.push('ACS_CONNECTION_STRING has an endpoint that is not an absolute URL');
    acs = { kind: 'connectionString', connectionString: s.ACS_CONNECTION_STRING, endpoint };
  } else if (s.ACS_ENDPOINT) {
    acs = { kind: 'identity', endpoint: s.ACS_ENDPOINT, ...(s.AZURE_CLIENT_ID ? { clientId: s.AZURE_CLIENT_ID } : {}) };
  } else {
    problems.push(
      'ACS_ENDPOINT is required (or ACS_CONNECTION_STRING locally, e.g. endpoint=http://127.0.0.1:7081/;accesskey=...)',
    );
  }

  const seen = new Set<string>();
  for (const sender of s.SMS_SENDERS) {
    if (seen.has(sender.number)) problems.push(`SMS_SENDERS lists ${sender.number} twice`);
    seen.add(sender.number);
  }
  if (s.STATUS_WEBHOOK_URLS.length > 0 && !s.STATUS_WEBHOOK_SECRET) {
    problems.push('STATUS_WEBHOOK_SECRET is required when STATUS_WEBHOOK_URLS is set, so receivers can verify deliveries');
  }
  const numbers = new Set(s.SMS_SENDERS.map((sender) => sender.number));
  const keywords = s.INBOUND_KEYWORDS ?? {};
  const replies = s.INBOUND_REPLIES ?? {};
  for (const [name, perSender] of [
    ['INBOUND_KEYWORDS', keywords.senders],
    ['INBOUND_REPLIES', replies.senders],
  ] as const) {
    for (const number of Object.keys(perSender ?? {})) {
      if (!numbers.has(number)) problems.push(`${name} names ${number} under "senders", which is not in SMS_SENDERS`);
    }
  }
  const listsOf = (number: string) => keywordsFor({ scope: s.OPT_OUT_SCOPE, keywords, replies: {} }, number);
  const poolConflicts = keywordConflicts(listsOf(''));
  for (const conflict of poolConflicts) problems.push(`INBOUND_KEYWORDS: ${conflict}`);
  for (const number of Object.keys(keywords.senders ?? {})) {
    for (const conflict of keywordConflicts(listsOf(number))) {
      if (!poolConflicts.includes(conflict)) problems.push(`INBOUND_KEYWORDS: ${conflict} for ${number}`);
    }
  }
  const telemetry = telemetryConfig(s, problems);
  for (const tag of Object.keys(s.SMS_BUDGETS?.tags ?? {})) {
    const limits = s.SMS_BUDGETS!.tags![tag]!;
    if (!limits.daily && !limits.monthly) problems.push(`SMS_BUDGETS names tag "${tag}" without a daily or monthly limit`);
  }
  problems.push(
    ...appProblems(
      s,
      s.SMS_SENDERS.map((sender) => sender.number),
    ),
  );
  const links = linkPolicyOf(s);
  const tracking = links.tracking;
  if (!links.base && (tracking.default || [...Object.values(tracking.tags), ...Object.values(tracking.templates)].some(Boolean)))
    problems.push('LINK_TRACKING turns link tracking on, which needs LINK_DOMAIN');
  if (s.SMS_RETENTION_RECORD_DAYS < s.SMS_RETENTION_TEXT_DAYS)
    problems.push('SMS_RETENTION_RECORD_DAYS must be at least SMS_RETENTION_TEXT_DAYS: a record cannot go before its text');
  const { auth, problems: authProblems } = authOf(s);
  problems.push(...authProblems);
  if (problems.length > 0 || !storage || !acs) throw new ConfigError([...new Set(problems)]);
  const senders = s.SMS_SENDERS.map(senderWithDefaults);

  return {
    storage,
    outboundQueue: { transport: s.OUTBOUND_QUEUE_TRANSPORT, name: s.OUTBOUND_QUEUE_NAME, ...(serviceBus ? { serviceBus } : {}) },
    acs,
    senders,
    maxSegments: s.SMS_MAX_SEGMENTS,
    sendMaxAttempts: s.SEND_MAX_ATTEMPTS,
    acsRequestTimeoutMs: s.ACS_REQUEST_TIMEOUT_MS,
    uncertainPolicy: s.SEND_UNCERTAIN_POLICY,
    recovery: {
      intervalMs: s.RECOVERY_INTERVAL_SECONDS * 1000,
      schedule: s.RECOVERY_INTERVAL_SECONDS === 60 ? '0 * * * * *' : `*/${s.RECOVERY_INTERVAL_SECONDS} * * * * *`,
    },
    reconcile: {
      afterMs: s.RECONCILE_AFTER_SECONDS * 1000,
      deadlineMs: s.DELIVERY_REPORT_DEADLINE_HOURS * 3600_000,
      schedule: s.RECONCILE_SCHEDULE,
    },
    events: {
      queueName: s.EVENTS_QUEUE_NAME,
      source: s.EVENTS_SOURCE ?? `/sms-pipeline/${s.WEBSITE_SITE_NAME ?? 'local'}`,
      retryBaseMs: s.EVENTS_RETRY_BASE_SECONDS * 1000,
    },
    webhooks: {
      urls: s.STATUS_WEBHOOK_URLS,
      ...(s.STATUS_WEBHOOK_SECRET ? { secret: s.STATUS_WEBHOOK_SECRET } : {}),
      ...(s.STATUS_WEBHOOK_EVENT_TYPES ? { eventTypes: s.STATUS_WEBHOOK_EVENT_TYPES } : {}),
    },
    ...(s.EVENTGRID_TOPIC_ENDPOINT
      ? {
          eventGrid: {
            endpoint: s.EVENTGRID_TOPIC_ENDPOINT,
            ...(s.EVENTGRID_TOPIC_KEY ? { key: s.EVENTGRID_TOPIC_KEY } : {}),
            ...(s.AZURE_CLIENT_ID ? { clientId: s.AZURE_CLIENT_ID } : {}),
          },
        }
      : {}),
    inbound: { scope: s.OPT_OUT_SCOPE, keywords, replies, mirrorOptOutsToAcs: s.ACS_OPT_OUT_MIRROR },
    analytics: { responseWindowMs: s.ANALYTICS_RESPONSE_WINDOW_HOURS * 3600_000, prices: mergePrices(s.ANALYTICS_SMS_PRICES) },
    telemetry,
    guard: {
      allowedCountries:
        s.SMS_ALLOWED_COUNTRIES === '*' ? 'any' : new Set(s.SMS_ALLOWED_COUNTRIES ?? defaultAllowedCountries(senders)),
      budgets: { rules: budgetRules(s.SMS_BUDGETS, appBudgetsOf(s)), whenReached: s.SMS_BUDGET_WHEN_REACHED },
      pumping: { ...DEFAULT_PUMPING_POLICY, ...s.SMS_PUMPING_PROTECTION },
    },
    links,
    auth,
    sendRules: {
      categoriesByTag: s.SMS_CATEGORY_BY_TAG.byTag,
      quietHours: { rules: s.SMS_QUIET_HOURS.rules, holidays: s.SMS_QUIET_HOLIDAYS.holidays },
      caps: s.SMS_FREQUENCY_CAPS.caps,
    },
    retention: {
      textDays: s.SMS_RETENTION_TEXT_DAYS,
      recordDays: s.SMS_RETENTION_RECORD_DAYS,
      conversationDays: s.SMS_RETENTION_CONVERSATION_DAYS,
    },
    apps: appsOf(s),
  };
}

function telemetryConfig(s: ReturnType<typeof settingsSchema.parse>, problems: string[]): TelemetryConfig {
  // service.name becomes cloud_RoleName in Application Insights: the app's name in Azure.
  const serviceName = s.WEBSITE_SITE_NAME ?? 'sms-pipeline';
  const exporter =
    s.TELEMETRY_EXPORTER === 'auto' ? (s.APPLICATIONINSIGHTS_CONNECTION_STRING ? 'azureMonitor' : 'none') : s.TELEMETRY_EXPORTER;
  if (exporter === 'file') return { exporter, serviceName, file: s.TELEMETRY_FILE };
  if (exporter !== 'azureMonitor') return { exporter, serviceName };
  if (!s.APPLICATIONINSIGHTS_CONNECTION_STRING) {
    problems.push('TELEMETRY_EXPORTER=azureMonitor needs APPLICATIONINSIGHTS_CONNECTION_STRING');
    return { exporter: 'none', serviceName };
  }
  const auth = s.APPLICATIONINSIGHTS_AUTHENTICATION_STRING;
  const clientId = auth ? /ClientId=([0-9a-fA-F-]{36})/i.exec(auth)?.[1] : undefined;
  return {
    exporter,
    serviceName,
    connectionString: s.APPLICATIONINSIGHTS_CONNECTION_STRING,
    ...(auth ? { entra: clientId ? { clientId } : {} } : {}),
  };
}

let cached: Config | undefined;

/** The configuration of this process, parsed on first use. */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
