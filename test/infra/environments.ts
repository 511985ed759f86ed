// The compiled main.bicep evaluated for the azd environments the docs walk through: the defaults,
// the storage transport, every optional setting given, and an existing ACS resource with its own
// system topic. Shared by the infra tests.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  allResources,
  azdParameters,
  evaluateTemplate,
  findDeployment,
  loadCompiled,
  plain,
  root,
  type Deployment,
  type Resource,
  type Value,
} from './armTemplate.js';

export const main = loadCompiled('main');
export const stageTwo = loadCompiled('eventgrid-subscriptions');

export const SENDERS =
  '[{"number":"+18005550100","type":"tollFree"},{"number":"+18005550111","type":"tollFree","ratePerMinute":120}]';

export const baseEnv = { AZURE_ENV_NAME: 'sms-dev', AZURE_LOCATION: 'eastus2', SMS_SENDERS: SENDERS };

/** A valid value for each setting azd may pass from its environment (main.parameters.json). */
export const optionalEnv: Record<string, string> = {
  OPT_OUT_SCOPE: 'pool',
  ACS_OPT_OUT_MIRROR: 'true',
  SMS_MAX_SEGMENTS: '6',
  SEND_MAX_ATTEMPTS: '5',
  SEND_UNCERTAIN_POLICY: 'atLeastOnce',
  RECOVERY_INTERVAL_SECONDS: '60',
  RECONCILE_AFTER_SECONDS: '900',
  DELIVERY_REPORT_DEADLINE_HOURS: '48',
  STATUS_WEBHOOK_URLS: 'https://example.com/sms-events',
  STATUS_WEBHOOK_EVENT_TYPES: 'sms.message.*',
  EVENTS_SOURCE: '/contoso/sms',
  EVENTS_RETRY_BASE_SECONDS: '20',
  ANALYTICS_RESPONSE_WINDOW_HOURS: '24',
  INBOUND_KEYWORDS: '{"stop":["STOP","ARRET"],"senders":{"+18005550100":{"help":["HELP","AIDE"]}}}',
  INBOUND_REPLIES: '{"help":"Acme alerts. Reply STOP to end.","types":{"tollFree":{"help":"Acme: reply STOP to end."}}}',
  RECONCILE_SCHEDULE: '0 */10 * * * *',
  SMS_ALLOWED_COUNTRIES: 'US,CA,GB',
  SMS_BUDGET_WHEN_REACHED: 'queue',
  SMS_PUMPING_PROTECTION: '{"burstPerMinute":30,"otpTags":["otp","login"],"enabled":true}',
  LINK_DOMAIN: 'go.contoso.com',
  LINK_EXPIRY_DAYS: '30',
  AUTH_MODE: 'entra',
  AUTH_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  AUTH_AUDIENCE: 'api://sms-pipeline-sms-dev,11111111-2222-3333-4444-555555555555',
  LINK_TRACKING: '{"default":false,"tags":{"promo":true}}',
  LINK_UTM: '{"utm_source":"sms","utm_campaign":"{tag}"}',
  SMS_CATEGORY_BY_TAG: 'promo=marketing,login=otp',
  SMS_QUIET_HOURS: 'marketing:US=08:00-21:00;marketing:FR=08:00-20:00/Mon-Sat;otp:*=07:00-23:00',
  SMS_QUIET_HOLIDAYS: 'FR:2026-12-25,FR:2027-01-01',
  SMS_FREQUENCY_CAPS: 'marketing:3/day,10/week',
  SMS_RETENTION_TEXT_DAYS: '60',
  SMS_RETENTION_RECORD_DAYS: '365',
  SMS_RETENTION_CONVERSATION_DAYS: '30',
};

export interface Evaluated {
  deployment: Deployment;
  resources: Resource[];
  /** The function app's app settings after the merge, as plain values. */
  appSettings: Record<string, string>;
  outputs: Record<string, unknown>;
}

/** Evaluates main.json for an azd environment; `current` plays the site's existing app settings. */
export function provision(env: Record<string, string>, current: Record<string, string> = {}): Evaluated {
  const deployment = evaluateTemplate(main, {
    parameters: azdParameters(env, main),
    list: (id) => (id.endsWith('/config/appsettings') ? ({ properties: current } as Value) : undefined),
  });
  const resources = allResources(deployment);
  const config = resources.filter((r) => r.type === 'Microsoft.Web/sites/config' && r.name.endsWith('/appsettings'));
  if (config.length !== 1) throw new Error(`expected one appsettings resource, found ${config.length}`);
  const appSettings = plain(config[0]!.body.properties!) as Record<string, string>;
  return { deployment, resources, appSettings, outputs: plain(deployment.outputs as Value) as Record<string, unknown> };
}

export const created = (e: Evaluated, type: string) => e.resources.filter((r) => r.type.toLowerCase() === type.toLowerCase());

export const moduleNamed = (e: Evaluated, prefix: string) => findDeployment(e.deployment, (d) => d.name.startsWith(prefix));

/** main.parameters.json: parameter name → the azd environment variable it reads. */
export function parameterEnv(): Record<string, string> {
  const file = JSON.parse(readFileSync(path.join(root, 'infra', 'main.parameters.json'), 'utf8')) as {
    parameters: Record<string, { value: unknown }>;
  };
  return Object.fromEntries(
    Object.entries(file.parameters).map(([name, { value }]) => [name, /^\$\{(\w+)/.exec(String(value))?.[1] ?? '']),
  );
}
