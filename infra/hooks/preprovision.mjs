// azd preprovision hook: checks, before anything is created, what would otherwise fail later.
//  1. Every setting azd passes from its environment (main.parameters.json: SMS_SENDERS,
//     OPT_OUT_SCOPE, INBOUND_KEYWORDS, ...) is checked with the app's own rules: shared/settings.ts and
//     shared/config.ts are bundled on the fly with esbuild and its settingsSchema and loadConfig applied, so this hook can
//     never disagree with the app about what is valid.
//  2. The region offers Flex Consumption: main.bicep's @allowed list stops any other, and when the
//     Azure CLI is signed in the live list (`az functionapp list-flexconsumption-locations`) is asked too.
//  3. An existing Communication Services resource (ACS_RESOURCE_NAME) that already has an Event Grid
//     system topic gets it adopted (ACS_SYSTEM_TOPIC_NAME), since a resource can have only one.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { az, azReady } from './az.mjs';

const root = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const EXAMPLE = `azd env set SMS_SENDERS '[{"number":"+18005550100","type":"tollFree"}]'`;
const env = process.env;

/** Environment variables main.parameters.json reads, by name. */
function mappedVariables() {
  const file = JSON.parse(readFileSync(path.join(root, 'infra', 'main.parameters.json'), 'utf8'));
  return Object.values(file.parameters)
    .map(({ value }) => /^\$\{(\w+)/.exec(String(value))?.[1])
    .filter(Boolean);
}

/** shared/settings.ts and shared/config.ts as one module, bundled with the project's esbuild (installing it first if needed). */
async function appConfig() {
  const needs = ['esbuild', 'zod'].filter((name) => !existsSync(path.join(root, 'node_modules', name)));
  if (needs.length > 0) {
    console.log(
      `preprovision: installing the project's dependencies (npm ci), to check the settings with the app's own rules (${needs.join(', ')} missing).`,
    );
    const install = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
      cwd: root,
      stdio: 'inherit',
      shell: process.platform === 'win32',
    });
    if (install.status !== 0) throw new Error('npm ci failed; run it yourself, then azd provision again.');
  }
  const esbuild = await import('esbuild');
  const built = await esbuild.build({
    stdin: {
      contents:
        "export { settingsSchema } from './shared/settings.ts';\nexport { loadConfig, ConfigError } from './shared/config.ts';\n",
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    logLevel: 'silent',
    absWorkingDir: root,
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sms-preprovision-'));
  const file = path.join(dir, 'config.mjs');
  writeFileSync(file, built.outputFiles[0].text);
  try {
    return await import(pathToFileURL(file).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Problems with the settings azd will pass, and warnings, in the app's words. */
export async function checkSettings(values = env) {
  const { settingsSchema, loadConfig, ConfigError } = await appConfig();
  const problems = [];
  const warnings = [];
  const given = {};
  for (const name of mappedVariables()) {
    if (!(name in settingsSchema.shape)) continue;
    const value = values[name];
    if (value === undefined || value === '') continue;
    given[name] = value;
    const parsed = settingsSchema.shape[name].safeParse(value);
    if (!parsed.success) for (const issue of parsed.error.issues) problems.push(`${name} ${issue.message}`);
  }
  // ARM templates have no floating-point type (learn.microsoft.com, "Data types in ARM templates"),
  // so a decimal in the sender pool, which travels as an array parameter, is refused here, not by ARM.
  if (given.SMS_SENDERS && problems.length === 0) {
    JSON.parse(given.SMS_SENDERS).forEach((sender, i) => {
      if (sender.ratePerMinute !== undefined && !Number.isInteger(sender.ratePerMinute)) {
        problems.push(
          `SMS_SENDERS [${i}].ratePerMinute must be a whole number when deployed with azd (ARM templates carry no decimals)`,
        );
      }
    });
  }
  if (!given.SMS_SENDERS) {
    warnings.push(
      [
        'SMS_SENDERS is not set: the function app will refuse to start ("SMS_SENDERS is required") until it is, and the',
        'Event Grid subscriptions cannot be made before it starts.',
        values.ACS_RESOURCE_NAME
          ? `Set it to the numbers of ${values.ACS_RESOURCE_NAME}, for example:\n  ${EXAMPLE}`
          : `Provisioning continues so that the Communication Services resource exists and you can buy a number on it\n(docs/deploy.md, "Get a phone number"); then run:\n  ${EXAMPLE}\n  azd up`,
      ].join('\n'),
    );
  }
  if (problems.length === 0 && given.SMS_SENDERS) {
    // The cross-checks of loadConfig (a number listed twice, keywords for a number not in the pool...),
    // with stand-ins for what only provisioning knows.
    try {
      loadConfig({
        AzureWebJobsStorage__accountName: 'stplaceholder',
        ServiceBusConnection__fullyQualifiedNamespace: 'sb-placeholder.servicebus.windows.net',
        ACS_ENDPOINT: 'https://acs-placeholder.communication.azure.com',
        ...given,
      });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      for (const problem of error.problems) {
        // The webhook secret is set on the app by hand, never through azd: it may well be there already.
        if (problem.startsWith('STATUS_WEBHOOK_SECRET is required')) {
          warnings.push(
            'STATUS_WEBHOOK_URLS is set: the app also needs STATUS_WEBHOOK_SECRET, set on the function app by hand (docs/deploy.md); it refuses to start without it.',
          );
        } else if (/^AUTH_(TENANT_ID \(or AUTH_ISSUER\)|JWKS_URL) is required/.test(problem)) {
          // Another issuer than the tenant's (AUTH_ISSUER, AUTH_JWKS_URL) is set on the app by hand.
          warnings.push(
            `${problem}: node infra/hooks/appRegistration.mjs writes AUTH_TENANT_ID; without it the app needs AUTH_ISSUER and AUTH_JWKS_URL set on it by hand, or it refuses to start.`,
          );
        } else problems.push(problem);
      }
    }
  }
  return { problems, warnings, given: Object.keys(given) };
}

/** Whether AZURE_LOCATION offers Flex Consumption, by the live list when the CLI can ask. */
function checkRegion() {
  const location = (env.AZURE_LOCATION ?? '').toLowerCase();
  if (!location) return { problems: [] };
  const ready = azReady(env.AZURE_SUBSCRIPTION_ID);
  if (!ready.ok)
    return {
      problems: [],
      note: "the Azure CLI is not signed in, so the region was checked against main.bicep's list only (by ARM).",
    };
  const listed = az(['functionapp', 'list-flexconsumption-locations', '--query', '[].name'], { json: true });
  if (!listed.ok || !Array.isArray(listed.out))
    return { problems: [], note: `could not list Flex Consumption regions (${listed.err || 'no answer'}).` };
  const regions = listed.out.map((r) =>
    String(r)
      .toLowerCase()
      .replace(/\s*\(.*\)$/, '')
      .replace(/\s+/g, ''),
  );
  if (regions.includes(location)) return { problems: [] };
  return {
    problems: [
      `AZURE_LOCATION ${location} does not offer the Flex Consumption plan. Choose one of: ${[...new Set(regions)].sort().join(', ')} (azd env set AZURE_LOCATION <region>).`,
    ],
  };
}

/** An existing ACS resource's system topic, adopted so provisioning does not try to make a second one. */
function adoptSystemTopic() {
  if (!env.ACS_RESOURCE_NAME || env.ACS_SYSTEM_TOPIC_NAME) return undefined;
  if (!azReady(env.AZURE_SUBSCRIPTION_ID).ok) {
    return `ACS_RESOURCE_NAME is set and the Azure CLI is not signed in, so an existing system topic on ${env.ACS_RESOURCE_NAME} could not be looked for; if provisioning fails on the system topic, set ACS_SYSTEM_TOPIC_NAME (docs/deploy.md).`;
  }
  const rg = env.ACS_RESOURCE_GROUP || env.AZURE_RESOURCE_GROUP || `rg-${env.AZURE_ENV_NAME}`;
  const source =
    `/subscriptions/${env.AZURE_SUBSCRIPTION_ID}/resourceGroups/${rg}/providers/Microsoft.Communication/communicationServices/${env.ACS_RESOURCE_NAME}`.toLowerCase();
  const topics = az(
    [
      'eventgrid',
      'system-topic',
      'list',
      '--subscription',
      env.AZURE_SUBSCRIPTION_ID,
      '--query',
      '[].{name:name, resourceGroup:resourceGroup, source:source}',
    ],
    { json: true },
  );
  if (!topics.ok || !Array.isArray(topics.out)) return `could not list Event Grid system topics (${topics.err || 'no answer'}).`;
  const found = topics.out.find((t) => String(t.source).toLowerCase() === source);
  if (!found) return undefined;
  for (const [name, value] of [
    ['ACS_SYSTEM_TOPIC_NAME', found.name],
    ['ACS_SYSTEM_TOPIC_RESOURCE_GROUP', found.resourceGroup],
  ]) {
    const set = spawnSync('azd', ['env', 'set', name, value], { stdio: 'inherit', shell: process.platform === 'win32' });
    if (set.status !== 0)
      throw new Error(
        `${env.ACS_RESOURCE_NAME} already has the system topic ${found.name}; could not run azd env set ${name} ${value}. Set it, then azd provision.`,
      );
  }
  return `${env.ACS_RESOURCE_NAME} already has the Event Grid system topic ${found.name} (resource group ${found.resourceGroup}): it is adopted (ACS_SYSTEM_TOPIC_NAME), not duplicated.`;
}

async function main() {
  const settings = await checkSettings();
  const region = checkRegion();
  for (const w of settings.warnings) console.warn(`preprovision: ${w}`);
  if (region.note) console.log(`preprovision: ${region.note}`);
  const problems = [...settings.problems, ...region.problems];
  if (problems.length > 0) {
    console.error(
      `preprovision: nothing was provisioned, because:\n${problems.map((p) => `  - ${p}`).join('\n')}\nFix them with azd env set NAME value (docs/deploy.md lists every setting), then run azd provision again.`,
    );
    return 1;
  }
  const topic = adoptSystemTopic();
  if (topic) console.log(`preprovision: ${topic}`);
  console.log(`preprovision: settings checked with the app's rules (${settings.given.join(', ') || 'none given'}).`);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main().catch((error) => {
    console.error(`preprovision: ${error.message}`);
    return 1;
  });
}
