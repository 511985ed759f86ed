// The azd hooks, run as azd runs them (node, the azd environment as process environment), against a
// stand-in `az` and `azd` on PATH that answer as the real CLIs do and record every call, and a stand-in
// function app answering /api/health/details to its function key. What they must do: make the Event Grid subscriptions after a
// provision and after a deploy, fail loudly when they cannot, prove ACS accepts the app's identity and
// name the setting that switches roles when it does not; check settings with the app's own rules.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSIONS } from '../../shared/domain/caller.js';
import { root } from '../support/localStack.js';

interface Answer {
  /** Matched against the arguments joined by spaces. */
  match: string;
  stdout?: unknown;
  stderr?: string;
  exit?: number;
  /** Answer this many times, then fall through to the next match. */
  times?: number;
}

const FAKE_CLI = `#!/usr/bin/env node
const fs = require('node:fs');
const file = process.env.FAKE_CLI_STATE;
const state = JSON.parse(fs.readFileSync(file, 'utf8'));
const name = require('node:path').basename(process.argv[1]);
const args = process.argv.slice(2).join(' ');
state.calls.push(name + ' ' + args);
const answer = state[name].find((a) => new RegExp(a.match).test(args) && (a.times === undefined || a.times > 0));
if (answer && answer.times !== undefined) answer.times--;
fs.writeFileSync(file, JSON.stringify(state));
if (!answer) { process.stderr.write('fake ' + name + ': no answer for: ' + args + '\\n'); process.exit(2); }
if (answer.stdout !== undefined) process.stdout.write(typeof answer.stdout === 'string' ? answer.stdout : JSON.stringify(answer.stdout));
if (answer.stderr) process.stderr.write(answer.stderr);
process.exit(answer.exit ?? 0);
`;

const work = mkdtempSync(path.join(os.tmpdir(), 'sms-hooks-'));
const bin = path.join(work, 'bin');
let health: { status: number; body: unknown }[] = [];
let server: Server;
let apiUri: string;

beforeAll(async () => {
  mkdirSync(bin, { recursive: true });
  for (const name of ['az', 'azd']) {
    const file = path.join(bin, name);
    writeFileSync(file, FAKE_CLI);
    chmodSync(file, 0o755);
  }
  server = createServer((req, res) => {
    // As the Functions host does: the details need a function key; the anonymous /api/health has no checks.
    if (req.url !== '/api/health/details' || req.headers['x-functions-key'] !== FUNCTION_KEY) {
      res.writeHead(req.url === '/api/health/details' ? 401 : 404).end();
      return;
    }
    const next = health.length > 1 ? health.shift()! : health[0]!;
    res.writeHead(next.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(next.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(work, { recursive: true, force: true });
});

const APP = 'func-api-abc';
const FUNCTION_KEY = 'default-function-key';
const azdEnv = () => ({
  AZURE_SUBSCRIPTION_ID: '00000000-0000-0000-0000-000000000000',
  AZURE_ENV_NAME: 'sms-dev',
  AZURE_LOCATION: 'eastus2',
  AZURE_RESOURCE_GROUP: 'rg-sms-dev',
  AZURE_FUNCTION_APP_NAME: APP,
  EVENTGRID_SYSTEM_TOPIC_NAME: 'egst-acs-abc',
  EVENTGRID_SYSTEM_TOPIC_RESOURCE_GROUP: 'rg-sms-dev',
  AZURE_STORAGE_ACCOUNT_NAME: 'stabc',
  EVENTGRID_DEADLETTER_CONTAINER: 'eventgrid-deadletters',
  AZURE_COMMUNICATION_SERVICE_NAME: 'acs-abc',
  SERVICE_API_URI: apiUri,
  SMS_SENDERS: '[{"number":"+18005550100","type":"tollFree"}]',
});

/** az signed in, and the app's keys readable (the shape of `az functionapp keys list`). */
const signedIn: Answer[] = [
  { match: '^version' },
  { match: '^account show' },
  {
    match: `^functionapp keys list .*--name ${APP}`,
    stdout: { functionKeys: { default: FUNCTION_KEY }, masterKey: 'master', systemKeys: {} },
  },
];
const functionsListed: Answer = {
  match: '^functionapp function list',
  stdout: [`${APP}/deliveryReports`, `${APP}/inboundSms`, `${APP}/sendSms`],
};
const deployed: Answer = { match: '^deployment group create' };
const subscription = (name: string, fn: string, state = 'Succeeded'): Answer => ({
  match: `event-subscription show .*--name ${name} `,
  stdout: { state, target: `/subscriptions/x/resourceGroups/rg-sms-dev/providers/Microsoft.Web/sites/${APP}/functions/${fn}` },
});
const subscriptionsInPlace = [
  subscription('sms-delivery-reports', 'deliveryReports'),
  subscription('sms-received', 'inboundSms'),
];
const healthy = {
  status: 200,
  body: { status: 'healthy', checks: { storage: { ok: true }, queue: { ok: true }, acs: { ok: true } } },
};
const refused = (code: number) => ({
  status: 503,
  body: {
    status: 'unhealthy',
    checks: {
      storage: { ok: true },
      acs: { ok: false, error: `ACS refused the app's credentials (HTTP ${code}) on an opt-out check` },
    },
  },
});

async function runHook(
  script: string,
  args: string[],
  env: Record<string, string | undefined>,
  az: Answer[],
  azd: Answer[] = [],
) {
  const stateFile = path.join(work, `state-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(stateFile, JSON.stringify({ calls: [], az, azd }));
  const child = spawn(process.execPath, [path.join(root, 'infra', 'hooks', script), ...args], {
    cwd: root,
    env: {
      PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`,
      HOME: process.env.HOME ?? work,
      FAKE_CLI_STATE: stateFile,
      STAGE_TWO_POLL_SECONDS: '0',
      STAGE_TWO_INDEX_WAIT_SECONDS: '1',
      STAGE_TWO_ACS_WAIT_SECONDS: '1',
      ...Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)),
    } as Record<string, string>,
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  const calls = (JSON.parse(readFileSync(stateFile, 'utf8')) as { calls: string[] }).calls;
  return { code, output, calls };
}

describe('stage two (postprovision and postdeploy)', () => {
  it("after a deploy: waits for the functions, deploys the subscriptions into the topic's group, reads them back, proves ACS auth", async () => {
    health = [healthy];
    // Time to list the functions a second time: 1 s ran out on a loaded machine before the retry.
    const topicElsewhere = {
      ...azdEnv(),
      EVENTGRID_SYSTEM_TOPIC_RESOURCE_GROUP: 'rg-sms-numbers',
      STAGE_TWO_INDEX_WAIT_SECONDS: '30',
    };
    const r = await runHook('stageTwo.mjs', ['--after', 'deploy'], topicElsewhere, [
      ...signedIn,
      { ...functionsListed, match: '^functionapp function list', stdout: [`${APP}/deliveryReports`], times: 1 },
      functionsListed,
      deployed,
      ...subscriptionsInPlace,
    ]);
    expect(r.code, r.output).toBe(0);
    const create = r.calls.find((c) => c.startsWith('az deployment group create'))!;
    expect(create).toMatch(/--resource-group rg-sms-numbers /);
    expect(create).toMatch(/infra[\\/]eventgrid-subscriptions\.bicep/);
    for (const p of [
      `functionAppName=${APP}`,
      'appResourceGroupName=rg-sms-dev',
      'systemTopicName=egst-acs-abc',
      'deadLetterStorageAccountName=stabc',
      'deadLetterContainerName=eventgrid-deadletters',
    ]) {
      expect(create).toContain(p);
    }
    expect(r.output).toMatch(/waiting for inboundSms to be indexed/);
    expect(r.output).toMatch(
      /Event Grid subscriptions are in place: sms-delivery-reports → deliveryReports, sms-received → inboundSms/,
    );
    expect(r.output).toMatch(/ACS accepts the app's identity/);
  });

  it('on a system topic shared with other environments, names the subscriptions after this one', async () => {
    health = [healthy];
    const shared = { ...azdEnv(), EVENTGRID_SUBSCRIPTION_SUFFIX: '-sms-dev' };
    const r = await runHook('stageTwo.mjs', ['--after', 'deploy'], shared, [
      ...signedIn,
      functionsListed,
      deployed,
      subscription('sms-delivery-reports-sms-dev', 'deliveryReports'),
      subscription('sms-received-sms-dev', 'inboundSms'),
    ]);
    expect(r.code, r.output).toBe(0);
    expect(r.calls.find((c) => c.startsWith('az deployment group create'))).toContain('subscriptionNameSuffix=-sms-dev');
    expect(r.output).toMatch(/sms-delivery-reports-sms-dev → deliveryReports, sms-received-sms-dev → inboundSms/);
  });

  it('after a provision with code deployed: the same, so azd provision alone ends with the subscriptions in place', async () => {
    health = [healthy];
    const r = await runHook('stageTwo.mjs', ['--after', 'provision'], azdEnv(), [
      ...signedIn,
      functionsListed,
      deployed,
      ...subscriptionsInPlace,
    ]);
    expect(r.code, r.output).toBe(0);
    expect(r.calls.some((c) => c.startsWith('az deployment group create'))).toBe(true);
  });

  it('after the first provision of azd up (no code yet): says the subscriptions are not made now and why, and does not fail', async () => {
    const r = await runHook('stageTwo.mjs', ['--after', 'provision'], azdEnv(), [
      ...signedIn,
      { match: '^functionapp function list', stdout: [] },
    ]);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(
      /no function is listed on func-api-abc, so the Event Grid subscriptions are NOT made now.*no code is\s+deployed yet \(azd deploy/s,
    );
    expect(r.calls.some((c) => c.includes('deployment group create'))).toBe(false);
  });

  it('after a provision that restarts a deployed app: waits for its functions to come back, then re-applies', async () => {
    health = [healthy];
    const deployedBefore = { ...azdEnv(), AZURE_FUNCTION_APP_CODE_DEPLOYED: 'true', STAGE_TWO_INDEX_WAIT_SECONDS: '30' };
    const r = await runHook('stageTwo.mjs', ['--after', 'provision'], deployedBefore, [
      ...signedIn,
      { match: '^functionapp function list', stdout: [], times: 2 },
      functionsListed,
      deployed,
      ...subscriptionsInPlace,
    ]);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/waiting for deliveryReports and inboundSms to be indexed/);
    expect(r.calls.some((c) => c.startsWith('az deployment group create'))).toBe(true);
  });

  it('records that code is deployed, so a later provision waits for a restarting app', async () => {
    health = [healthy];
    const r = await runHook(
      'stageTwo.mjs',
      ['--after', 'deploy'],
      azdEnv(),
      [...signedIn, functionsListed, deployed, ...subscriptionsInPlace],
      [{ match: '^env set' }],
    );
    expect(r.code, r.output).toBe(0);
    expect(r.calls).toContain('azd env set AZURE_FUNCTION_APP_CODE_DEPLOYED true');
  });

  it('fails loudly when the functions never appear', async () => {
    const r = await runHook('stageTwo.mjs', ['--after', 'deploy'], azdEnv(), [
      ...signedIn,
      { match: '^functionapp function list', stdout: [`${APP}/health`] },
    ]);
    expect(r.code).toBe(1);
    expect(r.output).toMatch(
      /deliveryReports and inboundSms are not listed on func-api-abc.*names the setting.*azd hooks run postdeploy/s,
    );
  });

  it('fails loudly when the subscription deployment fails', async () => {
    const r = await runHook('stageTwo.mjs', ['--after', 'deploy'], azdEnv(), [
      ...signedIn,
      functionsListed,
      {
        match: '^deployment group create',
        exit: 1,
        stderr: 'ERROR: (AuthorizationFailed) The client does not have authorization',
      },
    ]);
    expect(r.code).toBe(1);
    expect(r.output).toMatch(
      /stage two failed: the Event Grid subscriptions could not be created:\nERROR: \(AuthorizationFailed\)/,
    );
  });

  it('fails loudly when a subscription is not in place after the deployment', async () => {
    const r = await runHook('stageTwo.mjs', ['--after', 'deploy'], azdEnv(), [
      ...signedIn,
      functionsListed,
      deployed,
      subscription('sms-delivery-reports', 'deliveryReports'),
      subscription('sms-received', 'inboundSms', 'Failed'),
    ]);
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/the Event Grid subscription sms-received is not in place \(state Failed/);
  });

  it('fails on a 401/403 from ACS that outlasts role propagation, naming the setting that switches to a built-in role', async () => {
    health = [refused(403)];
    const r = await runHook('stageTwo.mjs', ['--after', 'deploy'], azdEnv(), [
      ...signedIn,
      functionsListed,
      deployed,
      ...subscriptionsInPlace,
    ]);
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/ACS refused the function app's identity \(HTTP 403\) on an opt-out check/);
    expect(r.output).toMatch(
      /azd env set ACS_SENDER_ROLE_DEFINITION_ID "\$\(az role definition list --name "Communication and Email Service Owner"/,
    );
    expect(r.output).toMatch(/azd provision/);
  });

  it('waits through a 401 while the role assignment propagates', async () => {
    health = [refused(401), healthy];
    const r = await runHook('stageTwo.mjs', ['--after', 'deploy'], { ...azdEnv(), STAGE_TWO_ACS_WAIT_SECONDS: '30' }, [
      ...signedIn,
      functionsListed,
      deployed,
      ...subscriptionsInPlace,
    ]);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/ACS answered 401 to the app's identity.*trying again/s);
    expect(r.output).toMatch(/ACS accepts the app's identity/);
  });

  it('fails naming the function key when it cannot be read, so the ACS check is never skipped', async () => {
    health = [healthy];
    const r = await runHook('stageTwo.mjs', ['--after', 'deploy'], azdEnv(), [
      { match: '^version' },
      { match: '^account show' },
      { match: '^functionapp keys list', stderr: '(AuthorizationFailed) no access to listKeys', exit: 1 },
      functionsListed,
      deployed,
      ...subscriptionsInPlace,
    ]);
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/could not read the function key of func-api-abc \(\(AuthorizationFailed\) no access to listKeys\)/);
  });

  it('without SMS_SENDERS: warns that the subscriptions are not in place, and why', async () => {
    const r = await runHook('stageTwo.mjs', ['--after', 'deploy'], { ...azdEnv(), SMS_SENDERS: undefined }, signedIn);
    expect(r.code).toBe(0);
    expect(r.output).toMatch(/WARNING — the Event Grid subscriptions are NOT in place.*SMS_SENDERS is not set/s);
  });

  it('fails when the Azure CLI is not signed in, or when provisioning outputs are missing', async () => {
    const signedOut = await runHook('stageTwo.mjs', ['--after', 'deploy'], azdEnv(), [
      { match: '^version' },
      { match: '^account show', exit: 1, stderr: 'Please run az login' },
    ]);
    expect(signedOut.code).toBe(1);
    expect(signedOut.output).toMatch(/sign the Azure CLI in to subscription 00000000-0000-0000-0000-000000000000 \(az login/);
    const unprovisioned = await runHook(
      'stageTwo.mjs',
      ['--after', 'deploy'],
      { ...azdEnv(), EVENTGRID_SYSTEM_TOPIC_NAME: undefined },
      signedIn,
    );
    expect(unprovisioned.code).toBe(1);
    expect(unprovisioned.output).toMatch(
      /EVENTGRID_SYSTEM_TOPIC_NAME is not set in the azd environment: run 'azd provision' first/,
    );
  });

  it('reads only values main.bicep outputs or azd sets', () => {
    const compiledOutputs = /output (\w+) /g;
    const outputs = new Set(
      [...readFileSync(path.join(root, 'infra', 'main.bicep'), 'utf8').matchAll(compiledOutputs)].map((m) => m[1]!),
    );
    const text = readFileSync(path.join(root, 'infra', 'hooks', 'stageTwo.mjs'), 'utf8');
    for (const m of text.matchAll(/env\.([A-Z][A-Z0-9_]+)/g)) {
      const name = m[1]!;
      if (
        ['AZURE_SUBSCRIPTION_ID', 'AZURE_ENV_NAME', 'SMS_SENDERS', 'AZURE_FUNCTION_APP_CODE_DEPLOYED'].includes(name) ||
        name.startsWith('STAGE_TWO_')
      )
        continue;
      expect(outputs.has(name), `stageTwo.mjs reads ${name}, which main.bicep does not output`).toBe(true);
    }
  });
});

describe('preprovision', () => {
  const regions: Answer = {
    match: '^functionapp list-flexconsumption-locations',
    stdout: ['eastus', 'eastus2', 'northcentralus(stage)', 'westus2'],
  };

  it('accepts settings the app accepts', async () => {
    const r = await runHook(
      'preprovision.mjs',
      [],
      { ...azdEnv(), OPT_OUT_SCOPE: 'pool', INBOUND_KEYWORDS: '{"senders":{"+18005550100":{"help":["AIDE"]}}}' },
      [...signedIn, regions],
    );
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/settings checked with the app's rules \(.*SMS_SENDERS.*OPT_OUT_SCOPE.*INBOUND_KEYWORDS/);
  });

  it("refuses what the app would refuse at start, in the app's words, before anything is provisioned", async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      // An all-digit alphanumeric sender id: the app requires a letter (the old hook let it through).
      [
        { SMS_SENDERS: '[{"number":"12345","type":"alphanumeric"}]' },
        /SMS_SENDERS \[0\.number\] must be an E\.164 number .* at least one letter/,
      ],
      [
        { SMS_SENDERS: '[{"number":"+18005550100","type":"tollFree"},{"number":"+18005550100","type":"tollFree"}]' },
        /SMS_SENDERS lists \+18005550100 twice/,
      ],
      [{ OPT_OUT_SCOPE: 'everyone' }, /OPT_OUT_SCOPE must be "sender" or "pool"/],
      [
        { SMS_SENDERS: '[{"number":"+18005550100","type":"tollFree","ratePerMinute":12.5}]' },
        /SMS_SENDERS \[0\]\.ratePerMinute must be a whole number/,
      ],
      [
        { INBOUND_KEYWORDS: '{"senders":{"+18005550199":{"help":["AIDE"]}}}' },
        /INBOUND_KEYWORDS names \+18005550199 under "senders", which is not in SMS_SENDERS/,
      ],
      [{ STATUS_WEBHOOK_URLS: 'http://example.com/hook' }, /STATUS_WEBHOOK_URLS "http:\/\/example\.com" must use https/],
      // Tokens turned on before the app registration exists (infra/hooks/appRegistration.mjs writes these).
      [
        { AUTH_MODE: 'entra', AUTH_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47' },
        /AUTH_AUDIENCE is required when AUTH_MODE is entra/,
      ],
    ];
    for (const [extra, message] of cases) {
      const r = await runHook('preprovision.mjs', [], { ...azdEnv(), ...extra }, [...signedIn, regions]);
      expect(r.code, `${JSON.stringify(extra)}\n${r.output}`).toBe(1);
      expect(r.output).toMatch(/nothing was provisioned/);
      expect(r.output).toMatch(message);
    }
  });

  it('refuses a region without Flex Consumption when the Azure CLI can ask', async () => {
    const r = await runHook('preprovision.mjs', [], { ...azdEnv(), AZURE_LOCATION: 'westindia' }, [...signedIn, regions]);
    expect(r.code).toBe(1);
    expect(r.output).toMatch(
      /AZURE_LOCATION westindia does not offer the Flex Consumption plan\. Choose one of: eastus, eastus2, northcentralus, westus2/,
    );
  });

  it('adopts the system topic an existing ACS resource already has', async () => {
    const acsId =
      '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-sms-numbers/providers/Microsoft.Communication/communicationServices/acs-contoso';
    const r = await runHook(
      'preprovision.mjs',
      [],
      { ...azdEnv(), ACS_RESOURCE_NAME: 'acs-contoso', ACS_RESOURCE_GROUP: 'rg-sms-numbers' },
      [
        ...signedIn,
        regions,
        {
          match: '^eventgrid system-topic list',
          stdout: [{ name: 'acs-contoso-events', resourceGroup: 'rg-sms-numbers', source: acsId }],
        },
      ],
      [{ match: '^env set' }],
    );
    expect(r.code, r.output).toBe(0);
    expect(r.calls).toEqual(
      expect.arrayContaining([
        'azd env set ACS_SYSTEM_TOPIC_NAME acs-contoso-events',
        'azd env set ACS_SYSTEM_TOPIC_RESOURCE_GROUP rg-sms-numbers',
      ]),
    );
    expect(r.output).toMatch(/already has the Event Grid system topic acs-contoso-events/);
  });

  it('warns, and goes on, without SMS_SENDERS (first deploy, number not bought yet)', async () => {
    const r = await runHook('preprovision.mjs', [], { ...azdEnv(), SMS_SENDERS: undefined }, [...signedIn, regions]);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/SMS_SENDERS is not set/);
  });
});

describe('the app registration for Entra ID callers (infra/hooks/appRegistration.mjs)', () => {
  const CLIENT_ID = '11111111-2222-3333-4444-555555555555';
  const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
  // Every permission the pipeline checks (shared/domain/caller.ts): the hook, a plain .mjs, keeps
  // its own list, and this is what keeps the two the same.
  const ROLES = [...PERMISSIONS];
  const rolesSent = (calls: string[]) => {
    const update = calls.find((c) => c.startsWith('az ad app update'))!;
    return JSON.parse(update.slice(update.indexOf('--app-roles ') + '--app-roles '.length)) as Array<Record<string, unknown>>;
  };

  it('creates the app with every role for applications, api://<client id>, its service principal, and writes AUTH_* into azd', async () => {
    const r = await runHook(
      'appRegistration.mjs',
      [],
      azdEnv(),
      [
        { match: '^ad app list --display-name sms-pipeline-sms-dev', stdout: '' },
        { match: '^ad app create --display-name sms-pipeline-sms-dev', stdout: { appId: CLIENT_ID, appRoles: [] } },
        { match: `^ad app update --id ${CLIENT_ID} --identifier-uris api://${CLIENT_ID} --app-roles ` },
        { match: `^ad sp show --id ${CLIENT_ID}`, exit: 3, stderr: 'not found' },
        { match: `^ad sp create --id ${CLIENT_ID}`, stdout: {} },
        { match: '^account show --query tenantId', stdout: TENANT },
      ],
      [{ match: '^env set AUTH_(TENANT_ID|AUDIENCE) ' }],
    );
    expect(r.code, r.output).toBe(0);
    const roles = rolesSent(r.calls);
    expect(roles.map((x) => x.value)).toEqual(ROLES);
    for (const role of roles)
      expect(role).toMatchObject({
        allowedMemberTypes: ['Application'],
        isEnabled: true,
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
    expect(r.calls).toContain(`azd env set AUTH_TENANT_ID ${TENANT}`);
    expect(r.calls).toContain(`azd env set AUTH_AUDIENCE api://${CLIENT_ID},${CLIENT_ID}`);
  });

  it('run again: keeps the roles it has (assignments point at their ids) and creates nothing', async () => {
    const kept = {
      allowedMemberTypes: ['Application'],
      description: 'x',
      displayName: 'Messages.Send',
      id: 'aaaaaaaa-0000-0000-0000-000000000001',
      isEnabled: true,
      value: 'Messages.Send',
    };
    const r = await runHook(
      'appRegistration.mjs',
      [],
      azdEnv(),
      [
        { match: '^ad app list', stdout: { appId: CLIENT_ID, appRoles: [kept] } },
        { match: '^ad app update' },
        { match: '^ad sp show', stdout: { id: 'sp' } },
        { match: '^account show', stdout: TENANT },
      ],
      [{ match: '^env set ' }],
    );
    expect(r.code, r.output).toBe(0);
    expect(r.calls.some((c) => / ad (app|sp) create/.test(c))).toBe(false);
    const roles = rolesSent(r.calls);
    expect(roles.find((x) => x.value === 'Messages.Send')).toEqual(kept);
    expect(roles).toHaveLength(ROLES.length);
  });

  it("grants roles to a caller's principal with Graph's appRoleAssignedTo, and names a role that does not exist", async () => {
    const env = { ...azdEnv(), AUTH_AUDIENCE: `api://${CLIENT_ID},${CLIENT_ID}` };
    const principal = '99999999-8888-7777-6666-555555555555';
    const pipelineSp = {
      id: 'cccccccc-0000-0000-0000-000000000001',
      appRoles: [{ value: 'Messages.Send', id: 'dddddddd-0000-0000-0000-000000000001' }],
    };
    const az: Answer[] = [{ match: `^ad sp show --id ${CLIENT_ID}`, stdout: pipelineSp }, { match: '^rest --method POST' }];
    const ok = await runHook('appRegistration.mjs', ['--grant', principal, '--roles', 'Messages.Send'], env, az);
    expect(ok.code, ok.output).toBe(0);
    const post = ok.calls.find((c) => c.startsWith('az rest'))!;
    expect(post).toContain(`--url https://graph.microsoft.com/v1.0/servicePrincipals/${pipelineSp.id}/appRoleAssignedTo`);
    expect(JSON.parse(post.slice(post.indexOf('--body ') + 7))).toEqual({
      principalId: principal,
      resourceId: pipelineSp.id,
      appRoleId: pipelineSp.appRoles[0]!.id,
    });
    const unknown = await runHook(
      'appRegistration.mjs',
      ['--grant', principal, '--roles', 'Messages.Send,Messages.Delete'],
      env,
      az,
    );
    expect(unknown.code).toBe(1);
    expect(unknown.output).toMatch(/no app role "Messages.Delete"/);
    expect(unknown.calls.some((c) => c.startsWith('az rest'))).toBe(false);
  });
});
