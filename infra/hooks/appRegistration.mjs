// One-time step for Entra ID callers (docs/security.md, docs/deploy.md), run by hand because it
// needs Microsoft Graph rights (creating an application) that a deployer of Azure resources may
// lack, and because Bicep's Microsoft Graph extension is pulled from a registry (mcr.microsoft.com)
// some build machines cannot reach:
//
//   node infra/hooks/appRegistration.mjs                      create (or update) the pipeline's app
//   node infra/hooks/appRegistration.mjs --grant <principal id> --roles Messages.Send[,…]
//                                                            let a caller (its managed identity) in
//
// The first creates the app registration "sms-pipeline-<env>" with the app roles the API checks
// (shared/domain/caller.ts PERMISSIONS), for applications (allowedMemberTypes Application: managed
// identities and app registrations, by app role assignment), gives it the app ID URI
// api://<client id>, creates its service principal, and writes AUTH_TENANT_ID and AUTH_AUDIENCE
// into the azd environment; `azd env set AUTH_MODE entra` and `azd provision` then turn tokens on.
// The second assigns app roles to a caller's service principal with Microsoft Graph,
// POST /servicePrincipals/{resource id}/appRoleAssignedTo {principalId, resourceId, appRoleId}
// (https://learn.microsoft.com/graph/api/serviceprincipal-post-approleassignedto; it needs
// AppRoleAssignment.ReadWrite.All and Application.Read.All, or ownership of the app).
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { az } from './az.mjs';

/** The roles, as the API checks them (shared/domain/access.ts says which route needs which). */
export const APP_ROLES = {
  'Messages.Send': 'Send messages, preview, cancel them, manage templates, report conversions.',
  'Messages.Read': 'Read messages and batches.',
  'OptOuts.Manage': 'Read and change opt-outs and the consent history.',
  'Conversations.Read': 'Read conversations with a number.',
  'Analytics.Read': 'Read analytics, the dashboard, the guard state and the detailed health.',
  'Subjects.Erase': "Erase a person's texts and conversations.",
  'Sending.Manage': 'Pause and resume sending, set budgets, release fraud holds.',
};

const shell = process.platform === 'win32';
const fail = (message) => {
  console.error(`app registration: ${message}`);
  process.exit(1);
};
const must = (result, what) => (result.ok ? result.out : fail(`${what} failed: ${result.err || 'no output'}`));

function azdEnv() {
  if (process.env.AZURE_ENV_NAME) return process.env;
  const r = spawnSync('azd', ['env', 'get-values', '--output', 'json'], { encoding: 'utf8', shell });
  if (r.status !== 0)
    fail(`could not read the azd environment (azd env get-values): ${(r.stderr ?? r.error?.message ?? '').trim()}`);
  return JSON.parse(r.stdout);
}

function azdSet(name, value) {
  const r = spawnSync('azd', ['env', 'set', name, value], { encoding: 'utf8', shell });
  if (r.status !== 0) fail(`azd env set ${name} failed: ${(r.stderr ?? '').trim()}`);
}

/** The roles to send: the app's own, kept (their ids are what assignments point at), plus missing ones. */
export function rolesFor(existing = []) {
  const roles = existing.map((r) => ({ ...r }));
  for (const [value, description] of Object.entries(APP_ROLES)) {
    if (roles.some((r) => r.value === value)) continue;
    roles.push({
      allowedMemberTypes: ['Application'],
      description,
      displayName: value,
      id: randomUUID(),
      isEnabled: true,
      value,
    });
  }
  return roles;
}

function register(env) {
  const name = `sms-pipeline-${env.AZURE_ENV_NAME}`;
  const found = must(az(['ad', 'app', 'list', '--display-name', name, '--query', '[0]'], { json: true }), 'az ad app list');
  const app =
    found ??
    must(
      az(['ad', 'app', 'create', '--display-name', name, '--sign-in-audience', 'AzureADMyOrg'], { json: true }),
      'az ad app create',
    );
  const roles = rolesFor(app.appRoles ?? []);
  // Graph takes the whole list; the CLI reads it from a JSON argument.
  must(
    az([
      'ad',
      'app',
      'update',
      '--id',
      app.appId,
      '--identifier-uris',
      `api://${app.appId}`,
      '--app-roles',
      JSON.stringify(roles),
    ]),
    'az ad app update',
  );
  const sp = az(['ad', 'sp', 'show', '--id', app.appId], { json: true });
  if (!sp.ok) must(az(['ad', 'sp', 'create', '--id', app.appId], { json: true }), 'az ad sp create');
  const tenant = must(az(['account', 'show', '--query', 'tenantId', '--output', 'tsv']), 'az account show');
  azdSet('AUTH_TENANT_ID', tenant);
  // v1.0 tokens carry the app ID URI as aud, v2.0 ones the client id: accept both.
  azdSet('AUTH_AUDIENCE', `api://${app.appId},${app.appId}`);
  console.log(
    `app registration: ${name} (client id ${app.appId}) has the roles ${Object.keys(APP_ROLES).join(', ')}.\n` +
      `  AUTH_TENANT_ID and AUTH_AUDIENCE are in the azd environment. To require tokens:\n` +
      `    azd env set AUTH_MODE entra && azd provision\n` +
      `  To let an app in: node infra/hooks/appRegistration.mjs --grant <its managed identity's principal id> --roles Messages.Send`,
  );
}

function grant(env, principalId, roleNames) {
  const audience = (env.AUTH_AUDIENCE ?? '').split(',').find((a) => !a.startsWith('api://'));
  if (!audience) fail('AUTH_AUDIENCE is not in the azd environment: run node infra/hooks/appRegistration.mjs first.');
  const resource = must(az(['ad', 'sp', 'show', '--id', audience], { json: true }), 'az ad sp show');
  // Every role named must exist before any is assigned: half a grant is worse than none.
  const roles = roleNames.map((roleName) => {
    const role = (resource.appRoles ?? []).find((r) => r.value === roleName);
    if (!role) fail(`the pipeline has no app role "${roleName}"; it has ${Object.keys(APP_ROLES).join(', ')}.`);
    return { roleName, role };
  });
  for (const { roleName, role } of roles) {
    const body = JSON.stringify({ principalId, resourceId: resource.id, appRoleId: role.id });
    const url = `https://graph.microsoft.com/v1.0/servicePrincipals/${resource.id}/appRoleAssignedTo`;
    must(
      az(['rest', '--method', 'POST', '--url', url, '--headers', 'Content-Type=application/json', '--body', body]),
      `assigning ${roleName}`,
    );
    console.log(
      `app registration: ${principalId} has ${roleName}; its next token carries it (managed identity tokens are cached by Azure, so this can take a while).`,
    );
  }
}

const args = process.argv.slice(2);
if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('appRegistration.mjs')) {
  const env = azdEnv();
  const at = args.indexOf('--grant');
  if (at >= 0) {
    const principal = args[at + 1];
    const roles = (args[args.indexOf('--roles') + 1] ?? '').split(',').filter(Boolean);
    if (!principal || !/^[0-9a-f-]{36}$/i.test(principal) || args.indexOf('--roles') < 0 || roles.length === 0)
      fail('usage: --grant <principal (object) id of the caller> --roles Messages.Send[,Messages.Read…]');
    grant(env, principal, roles);
  } else register(env);
}
