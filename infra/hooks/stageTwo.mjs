// azd postprovision and postdeploy hook: stage two of the deployment, so that every documented path
// (azd up, azd provision, azd deploy) ends with the Event Grid subscriptions in place and ACS proven
// to accept the app's identity, or fails saying why.
//
//  1. Event Grid only accepts a subscription whose destination function exists, so once the
//     functions are indexed the ACS event subscriptions are deployed from
//     infra/eventgrid-subscriptions.bicep (`az deployment group create`, idempotent), then read back:
//     both must exist, succeeded, and point at their function. Any failure fails the hook.
//     After `azd provision` on an environment whose code was never deployed there are no functions
//     yet: the hook says so, and `azd deploy` (the rest of `azd up`) makes them.
//  2. One harmless ACS call with the app's own identity: the hook cannot act as the managed identity,
//     so it asks the app's /api/health/details (with the app's default function key, read with
//     `az functionapp keys list`: https://learn.microsoft.com/cli/azure/functionapp/keys), whose ACS
//     check is an opt-out check with one of the app's numbers (shared/adapters/acs/smsGateway.ts
//     ping). The anonymous /api/health gives the verdict only, never which dependency failed. A 401/403 is retried while role assignments
//     propagate (up to ten minutes), then fails, naming the setting that switches to a built-in role.
//
//   node infra/hooks/stageTwo.mjs --after provision|deploy
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { az, azReady, sleep } from './az.mjs';

const root = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const env = process.env;
const after = process.argv.includes('--after') ? process.argv[process.argv.indexOf('--after') + 1] : 'deploy';
const POLL_SECONDS = Number(env.STAGE_TWO_POLL_SECONDS ?? 15);
const INDEX_WAIT_SECONDS = Number(env.STAGE_TWO_INDEX_WAIT_SECONDS ?? 300);
const ACS_WAIT_SECONDS = Number(env.STAGE_TWO_ACS_WAIT_SECONDS ?? 600);

/** The subscriptions infra/eventgrid-subscriptions.bicep makes: name → function and event type. */
export const SUBSCRIPTIONS = {
  'sms-delivery-reports': { functionName: 'deliveryReports', eventType: 'Microsoft.Communication.SMSDeliveryReportReceived' },
  'sms-received': { functionName: 'inboundSms', eventType: 'Microsoft.Communication.SMSReceived' },
};

class StageTwoError extends Error {}
const fail = (message) => {
  throw new StageTwoError(message);
};
const say = (message) => console.log(`stage two: ${message}`);

function required(names) {
  const missing = names.filter((n) => !env[n]);
  if (missing.length > 0)
    fail(
      `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set in the azd environment: run 'azd provision' first.`,
    );
}

/** The function app, as `az functionapp …` commands name it. */
const theApp = () => [
  '--subscription',
  env.AZURE_SUBSCRIPTION_ID,
  '--resource-group',
  env.AZURE_RESOURCE_GROUP,
  '--name',
  env.AZURE_FUNCTION_APP_NAME,
];

function listFunctions() {
  const listed = az(['functionapp', 'function', 'list', ...theApp(), '--query', '[].name'], { json: true });
  if (!listed.ok) fail(`could not list the functions of ${env.AZURE_FUNCTION_APP_NAME}: ${listed.err}`);
  // ARM names them <app>/<function>.
  return (Array.isArray(listed.out) ? listed.out : []).map((n) => String(n).split('/').pop());
}

async function waitForFunctions(names) {
  const deadline = Date.now() + INDEX_WAIT_SECONDS * 1000;
  for (let attempt = 1; ; attempt++) {
    const listed = listFunctions();
    const missing = names.filter((n) => !listed.includes(n));
    if (missing.length === 0) return;
    if (Date.now() >= deadline) {
      fail(
        [
          `${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not listed on ${env.AZURE_FUNCTION_APP_NAME} after ${INDEX_WAIT_SECONDS} s, so Event Grid cannot be subscribed to ${missing.length === 1 ? 'it' : 'them'}.`,
          `  The app most likely failed at start: its log (Application Insights, or 'az webapp log tail') names the setting.`,
          `  Fix it (azd env set NAME value; azd provision), then: azd hooks run postdeploy`,
        ].join('\n'),
      );
    }
    say(`waiting for ${missing.join(' and ')} to be indexed (${attempt})...`);
    await sleep(POLL_SECONDS);
  }
}

/** -<environment> on a system topic shared with other environments (main.bicep decides). */
const suffix = () => env.EVENTGRID_SUBSCRIPTION_SUFFIX ?? '';

function deploySubscriptions() {
  const topicGroup = env.EVENTGRID_SYSTEM_TOPIC_RESOURCE_GROUP || env.AZURE_RESOURCE_GROUP;
  say(
    `subscribing ${Object.values(SUBSCRIPTIONS)
      .map((s) => s.functionName)
      .join(' and ')} to the ACS events (system topic ${env.EVENTGRID_SYSTEM_TOPIC_NAME})...`,
  );
  const deployed = az([
    'deployment',
    'group',
    'create',
    '--subscription',
    env.AZURE_SUBSCRIPTION_ID,
    '--resource-group',
    topicGroup,
    '--name',
    `eventgrid-subscriptions-${env.AZURE_ENV_NAME ?? 'azd'}`,
    '--template-file',
    path.join(root, 'infra', 'eventgrid-subscriptions.bicep'),
    '--parameters',
    `systemTopicName=${env.EVENTGRID_SYSTEM_TOPIC_NAME}`,
    `functionAppName=${env.AZURE_FUNCTION_APP_NAME}`,
    `appResourceGroupName=${env.AZURE_RESOURCE_GROUP}`,
    `deadLetterStorageAccountName=${env.AZURE_STORAGE_ACCOUNT_NAME}`,
    `deadLetterContainerName=${env.EVENTGRID_DEADLETTER_CONTAINER}`,
    `subscriptionNameSuffix=${suffix()}`,
    '--output',
    'none',
  ]);
  if (!deployed.ok)
    fail(
      `the Event Grid subscriptions could not be created:\n${deployed.err}\nFix the cause above, then: azd hooks run postdeploy`,
    );
  // Read them back: a subscription that is missing, failed, or points elsewhere would lose events silently.
  for (const [name, { functionName }] of Object.entries(SUBSCRIPTIONS)) {
    const shown = az(
      [
        'eventgrid',
        'system-topic',
        'event-subscription',
        'show',
        '--subscription',
        env.AZURE_SUBSCRIPTION_ID,
        '--resource-group',
        topicGroup,
        '--system-topic-name',
        env.EVENTGRID_SYSTEM_TOPIC_NAME,
        '--name',
        `${name}${suffix()}`,
        '--query',
        '{state: provisioningState, target: destination.resourceId}',
      ],
      { json: true },
    );
    const state = shown.out?.state;
    const target = String(shown.out?.target ?? '');
    if (
      !shown.ok ||
      state !== 'Succeeded' ||
      !target.toLowerCase().endsWith(`/sites/${env.AZURE_FUNCTION_APP_NAME}/functions/${functionName}`.toLowerCase())
    ) {
      fail(
        `the Event Grid subscription ${name}${suffix()} is not in place (${shown.ok ? `state ${state}, destination ${target || 'none'}` : shown.err}). Run: azd hooks run postdeploy`,
      );
    }
  }
  say(
    `Event Grid subscriptions are in place: ${Object.entries(SUBSCRIPTIONS)
      .map(([n, s]) => `${n}${suffix()} → ${s.functionName}`)
      .join(', ')}.`,
  );
}

/** The switch to a built-in role, in commands a user can paste. */
function builtInRoleAdvice() {
  return [
    `  ACS then does not accept the role the app holds on ${env.AZURE_COMMUNICATION_SERVICE_NAME ?? 'the Communication Services resource'} for SMS. Switch it to the built-in`,
    `  role "Communication and Email Service Owner", on that one resource, with the setting ACS_SENDER_ROLE_DEFINITION_ID:`,
    `    azd env set ACS_SENDER_ROLE_DEFINITION_ID "$(az role definition list --name "Communication and Email Service Owner" --query "[0].id" --output tsv)"`,
    `    azd provision`,
    `  That role can also read the resource's keys and delete it; docs/deploy.md ("The ACS role") says why it is not the default.`,
  ].join('\n');
}

/** The app's default function key (functionKeys.default of `az functionapp keys list`), for /api/health/details. */
function functionKey() {
  const keys = az(['functionapp', 'keys', 'list', ...theApp()], { json: true });
  const key = keys.ok ? keys.out?.functionKeys?.default : undefined;
  return typeof key === 'string' && key ? { key } : { problem: keys.ok ? 'it has no default function key' : keys.err };
}

async function checkAcsAuth() {
  const base = (env.SERVICE_API_URI ?? '').replace(/\/$/, '');
  if (!base) fail('SERVICE_API_URI is not set in the azd environment: run azd provision first.');
  const url = `${base}/api/health/details`;
  const deadline = Date.now() + ACS_WAIT_SECONDS * 1000;
  for (let attempt = 1; ; attempt++) {
    let acs;
    let problem;
    // Read each time: the host creates its keys when it first starts, which may be after this hook began.
    const { key, problem: noKey } = functionKey();
    if (!key) {
      problem = `could not read the function key of ${env.AZURE_FUNCTION_APP_NAME} (${noKey})`;
    } else {
      try {
        const response = await fetch(url, { headers: { 'x-functions-key': key }, signal: AbortSignal.timeout(30_000) });
        const report = await response.json().catch(() => undefined);
        acs = report?.checks?.acs;
        if (!acs) problem = `/api/health/details answered ${response.status} without an ACS check`;
      } catch (error) {
        problem = `/api/health/details did not answer (${error.message})`;
      }
    }
    if (acs?.ok) {
      say(`ACS accepts the app's identity (an opt-out check through ${url}).`);
      return;
    }
    const refused = /HTTP (401|403)/.exec(acs?.error ?? '');
    if (acs && !refused) {
      // Not an authorisation problem (a timeout, an outage): say so, but it is not what this check proves.
      say(`warning: the ACS check did not pass for another reason: ${acs.error}. Sends will be retried by the pipeline.`);
      return;
    }
    if (Date.now() >= deadline) {
      if (refused) {
        fail(
          [
            `ACS refused the function app's identity (HTTP ${refused[1]}) on an opt-out check, for ${Math.round(ACS_WAIT_SECONDS / 60)} minutes: the app cannot send SMS.`,
            '  Role assignments take up to ten minutes to apply, and this one has had that long.',
            builtInRoleAdvice(),
            '  Then check again: azd hooks run postdeploy',
          ].join('\n'),
        );
      }
      fail(
        `${problem}. The app may not have started: its log (Application Insights) names the setting. Then: azd hooks run postdeploy`,
      );
    }
    say(
      `${refused ? `ACS answered ${refused[1]} to the app's identity (role assignments can take ten minutes to apply)` : problem}; trying again (${attempt})...`,
    );
    await sleep(Math.max(POLL_SECONDS, 1) * 2);
  }
}

async function main() {
  required([
    'AZURE_SUBSCRIPTION_ID',
    'AZURE_RESOURCE_GROUP',
    'AZURE_FUNCTION_APP_NAME',
    'EVENTGRID_SYSTEM_TOPIC_NAME',
    'AZURE_STORAGE_ACCOUNT_NAME',
    'EVENTGRID_DEADLETTER_CONTAINER',
    'SERVICE_API_URI',
  ]);
  if (!env.SMS_SENDERS) {
    console.warn(
      [
        'stage two: WARNING — the Event Grid subscriptions are NOT in place, and ACS is not checked: SMS_SENDERS is not set, so the',
        '  functions cannot start and Event Grid cannot subscribe to them. Buy a number (docs/deploy.md, "Get a phone number"), then:',
        `    azd env set SMS_SENDERS '[{"number":"+18005550100","type":"tollFree"}]'`,
        '    azd up',
      ].join('\n'),
    );
    return 0;
  }
  const ready = azReady(env.AZURE_SUBSCRIPTION_ID);
  if (!ready.ok) {
    fail(
      ready.reason === 'missing'
        ? 'the Azure CLI (az) is needed to create the Event Grid subscriptions: install it (https://aka.ms/azure-cli), az login, then: azd hooks run postdeploy'
        : `sign the Azure CLI in to subscription ${env.AZURE_SUBSCRIPTION_ID} (az login; azd and az keep separate sign-ins), then: azd hooks run postdeploy`,
    );
  }
  const names = Object.values(SUBSCRIPTIONS).map((s) => s.functionName);
  // After a provision, an app whose settings changed restarts and may list no function for a while;
  // only an app that has never been deployed has none to wait for. A successful stage two after a
  // deploy records that code is there (AZURE_FUNCTION_APP_CODE_DEPLOYED in the azd environment).
  if (after === 'provision' && env.AZURE_FUNCTION_APP_CODE_DEPLOYED !== 'true' && listFunctions().length === 0) {
    say(
      [
        `no function is listed on ${env.AZURE_FUNCTION_APP_NAME}, so the Event Grid subscriptions are NOT made now. Either no code is`,
        '  deployed yet (azd deploy, the rest of azd up, deploys it and then makes them), or the app does not start (its log names the',
        '  setting; fix it, then azd hooks run postdeploy).',
      ].join('\n'),
    );
    return 0;
  }
  await waitForFunctions(names);
  deploySubscriptions();
  await checkAcsAuth();
  if (env.AZURE_FUNCTION_APP_CODE_DEPLOYED !== 'true') {
    const recorded = spawnSync('azd', ['env', 'set', 'AZURE_FUNCTION_APP_CODE_DEPLOYED', 'true'], {
      stdio: 'ignore',
      shell: process.platform === 'win32',
    });
    if (recorded.status !== 0)
      say('note: could not record AZURE_FUNCTION_APP_CODE_DEPLOYED in the azd environment (azd env set).');
  }
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main().catch((error) => {
    console.error(`stage two failed: ${error.message}`);
    if (!(error instanceof StageTwoError)) console.error(error.stack);
    return 1;
  });
}
