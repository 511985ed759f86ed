// Security policy of the compiled infra: least-privilege role assignments on single resources, named
// by role and by guid(scope, principal, role); no secret in any app setting or output; local (key)
// authentication off; a description on every parameter and output; tags; diagnostic settings on the
// system topic, Service Bus and storage. Read from the ARM JSON, evaluated (test/infra/armTemplate.ts).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compiledDir, guid, root, type Resource, type Template } from './armTemplate.js';
import { baseEnv, created, provision, type Evaluated } from './environments.js';

/** Built-in role names and ids, from https://learn.microsoft.com/azure/role-based-access-control/built-in-roles. */
const BUILT_IN_ROLE_IDS: Record<string, string> = {
  Owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  Contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  Reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
  'User Access Administrator': '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
  'Communication and Email Service Owner': '09976791-48a7-449e-bb21-39d1a415f350',
  'Storage Blob Data Owner': 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  'Storage Blob Data Contributor': 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  'Storage Queue Data Contributor': '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  'Storage Table Data Contributor': '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  'Azure Service Bus Data Owner': '090c5cfd-751d-490a-894a-3ce6f1109419',
  'Azure Service Bus Data Sender': '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39',
  'Azure Service Bus Data Receiver': '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0',
  'EventGrid Data Sender': 'd5a91429-5739-47e2-a06b-3470a27159e7',
  'Monitoring Metrics Publisher': '3913510d-42f4-4e42-8a64-420c390055eb',
};
const ROLE_NAMES = Object.fromEntries(Object.entries(BUILT_IN_ROLE_IDS).map(([name, id]) => [id, name]));

/** Management roles (keys, deletion, access) are refused; "... Data Contributor" roles are data access only. */
function isForbiddenRoleName(name: string): boolean {
  if (/\bowner\b/i.test(name)) return true;
  return /\bcontributor\b/i.test(name) && !/\bdata contributor\b/i.test(name);
}

/** Setting values that would put a credential into configuration. */
const SECRET_VALUE =
  /AccountKey=|SharedAccessKey|SharedAccessSignature|[?&]sig=|DefaultEndpointsProtocol|Endpoint=sb:|accesskey=|listKeys|listConnectionStrings|listAccountSas|listServiceSas|listCredentials|listSecrets|primaryKey|secondaryKey|InstrumentationKey/i;

let defaults: Evaluated;
let storageTransport: Evaluated;
let existingAcs: Evaluated;

beforeAll(() => {
  defaults = provision(baseEnv);
  storageTransport = provision({ ...baseEnv, OUTBOUND_QUEUE_TRANSPORT: 'storage' });
  existingAcs = provision({
    ...baseEnv,
    ACS_RESOURCE_NAME: 'acs-contoso-sms',
    ACS_RESOURCE_GROUP: 'rg-sms-numbers',
    ACS_SYSTEM_TOPIC_NAME: 'acs-contoso-events',
  });
});

const roleAssignments = (e: Evaluated) => created(e, 'Microsoft.Authorization/roleAssignments');
const props = (r: Resource) => r.body.properties as Record<string, string>;
const roleIdOf = (r: Resource) => props(r).roleDefinitionId!.split('/').pop()!;

describe('role assignments', () => {
  it('grants only built-in data roles by their real ids, or the custom ACS role', () => {
    for (const e of [defaults, storageTransport, existingAcs]) {
      const assignments = roleAssignments(e);
      expect(assignments.length).toBeGreaterThanOrEqual(7);
      const customIds = created(e, 'Microsoft.Authorization/roleDefinitions').map((d) => d.name);
      for (const a of assignments) {
        const id = roleIdOf(a);
        const name = ROLE_NAMES[id] ?? (customIds.includes(id) ? 'ACS SMS Sender (custom)' : undefined);
        expect(name, `${a.scope}: role ${id} is neither a built-in role this test knows nor the custom role`).toBeDefined();
        expect(isForbiddenRoleName(name!), `${a.scope} grants ${name}`).toBe(false);
      }
    }
  });

  it('never mentions the Owner or Contributor role definition ids in any compiled template', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((n) =>
        statSync(path.join(dir, n)).isDirectory() ? files(path.join(dir, n)) : [path.join(dir, n)],
      );
    for (const file of files(compiledDir)) {
      const text = readFileSync(file, 'utf8').toLowerCase();
      for (const id of [
        BUILT_IN_ROLE_IDS.Owner!,
        BUILT_IN_ROLE_IDS.Contributor!,
        BUILT_IN_ROLE_IDS['Communication and Email Service Owner']!,
      ]) {
        expect(text.includes(id), `${path.relative(root, file)} mentions ${id}`).toBe(false);
      }
    }
  });

  it('names each assignment guid(scope id, principal, role) and states principalType ServicePrincipal', () => {
    for (const a of roleAssignments(defaults)) {
      expect(a.scope, 'an assignment is scoped to a resource').toBeDefined();
      expect(a.name).toBe(guid(a.scope!, props(a).principalId!, props(a).roleDefinitionId!));
      expect(props(a).principalType).toBe('ServicePrincipal');
    }
  });

  it('scopes every assignment to one resource, never a resource group or subscription', () => {
    for (const a of roleAssignments(defaults)) {
      expect(a.scope).toMatch(/\/providers\/Microsoft\.[A-Za-z]+\/[^/]+\/[^/]+/);
    }
  });

  it('gives the function identity what the code uses: each storage queue, the topic, telemetry, ACS', () => {
    const byScope = (e: Evaluated, role: string) =>
      roleAssignments(e)
        .filter((a) => ROLE_NAMES[roleIdOf(a)] === role && /userAssignedIdentities\/id-api-/.test(props(a).principalId!))
        .map((a) => a.scope!);
    const queues = created(defaults, 'Microsoft.Storage/storageAccounts/queueServices/queues').map((q) => q.id);
    expect(byScope(defaults, 'Storage Queue Data Contributor').sort()).toEqual(queues.sort());
    expect(byScope(defaults, 'EventGrid Data Sender')).toEqual(created(defaults, 'Microsoft.EventGrid/topics').map((t) => t.id));
    expect(byScope(defaults, 'Azure Service Bus Data Sender')).toEqual(
      created(defaults, 'Microsoft.ServiceBus/namespaces/queues').map((q) => q.id),
    );
    expect(byScope(defaults, 'Azure Service Bus Data Receiver')).toEqual(
      created(defaults, 'Microsoft.ServiceBus/namespaces/queues').map((q) => q.id),
    );
    expect(byScope(defaults, 'Monitoring Metrics Publisher')).toEqual(
      created(defaults, 'Microsoft.Insights/components').map((c) => c.id),
    );
    const acs = roleAssignments(defaults).filter((a) => a.scope!.includes('Microsoft.Communication/communicationServices'));
    expect(acs).toHaveLength(1);
  });

  it("keeps the dead letters out of the function identity's reach, and gives them to the system topic", () => {
    const blob = roleAssignments(defaults).filter((a) => ROLE_NAMES[roleIdOf(a)] === 'Storage Blob Data Contributor');
    const fn = blob.find((a) => /userAssignedIdentities/.test(props(a).principalId!))!;
    expect(props(fn).condition).toMatch(/azure-webjobs-hosts/);
    expect(props(fn).condition).not.toMatch(/eventgrid-deadletters/);
    const topic = blob.find((a) => /systemTopics/.test(props(a).principalId!))!;
    expect(topic.scope).toMatch(/\/containers\/eventgrid-deadletters$/);
  });

  it('lets the custom ACS role do only Read and Write, named from the same inputs as its id', () => {
    const [role] = created(defaults, 'Microsoft.Authorization/roleDefinitions');
    const p = role!.body.properties as {
      roleName: string;
      permissions: Array<{ actions: string[]; dataActions: string[] }>;
      assignableScopes: string[];
    };
    expect(p.permissions.flatMap((x) => x.actions)).toEqual([
      'Microsoft.Communication/CommunicationServices/Read',
      'Microsoft.Communication/CommunicationServices/Write',
    ]);
    expect(p.assignableScopes).toEqual([expect.stringMatching(/^\/subscriptions\/[^/]+\/resourceGroups\/rg-sms-dev$/)]);
    // Same environment name, subscription and region, another resource group: another id AND another name.
    const other = provision({ ...baseEnv, AZURE_RESOURCE_GROUP: 'rg-sms-dev-2' });
    const [otherRole] = created(other, 'Microsoft.Authorization/roleDefinitions');
    expect(otherRole!.name).not.toBe(role!.name);
    expect((otherRole!.body.properties as { roleName: string }).roleName).not.toBe(p.roleName);
    expect(p.roleName).toContain(role!.name.slice(0, 8));
    expect(defaults.outputs.AZURE_ACS_SENDER_ROLE_NAME).toBe(p.roleName);
  });

  it('assigns a role id given in ACS_SENDER_ROLE_DEFINITION_ID instead of creating one', () => {
    const given =
      '/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/roleDefinitions/11111111-2222-3333-4444-555555555555';
    const e = provision({ ...baseEnv, ACS_SENDER_ROLE_DEFINITION_ID: given });
    expect(created(e, 'Microsoft.Authorization/roleDefinitions')).toEqual([]);
    const acs = roleAssignments(e).find((a) => a.scope!.includes('Microsoft.Communication'))!;
    expect(props(acs).roleDefinitionId).toBe(given);
  });
});

describe('no secrets in configuration', () => {
  it('puts no connection string, key or SAS into any app setting or output', () => {
    for (const e of [defaults, storageTransport]) {
      for (const [name, value] of Object.entries(e.appSettings)) {
        if (name === 'APPLICATIONINSIGHTS_CONNECTION_STRING') {
          // An ingestion address from a component with local auth off; telemetry needs an Entra token.
          expect(value).toMatch(/^«reference\(.*Microsoft\.Insights\/components\/[^)]+\)\.ConnectionString»$/);
          continue;
        }
        expect(value, name).not.toMatch(SECRET_VALUE);
      }
      for (const [name, value] of Object.entries(e.outputs)) {
        if (name !== 'APPLICATIONINSIGHTS_CONNECTION_STRING') expect(JSON.stringify(value), name).not.toMatch(SECRET_VALUE);
      }
    }
    for (const c of created(defaults, 'Microsoft.Insights/components'))
      expect((c.body.properties as { DisableLocalAuth: boolean }).DisableLocalAuth).toBe(true);
  });
});

describe('local authentication is off', () => {
  it('storage accepts Entra ID only, over TLS 1.2, with no public blobs', () => {
    for (const s of created(defaults, 'Microsoft.Storage/storageAccounts')) {
      expect(s.body.properties).toMatchObject({
        allowSharedKeyAccess: false,
        allowBlobPublicAccess: false,
        minimumTlsVersion: 'TLS1_2',
      });
    }
  });

  it('Service Bus, the Event Grid topic and Log Analytics have local auth disabled', () => {
    for (const [type, read] of [
      ['Microsoft.ServiceBus/namespaces', (p: Record<string, unknown>) => p.disableLocalAuth],
      ['Microsoft.EventGrid/topics', (p: Record<string, unknown>) => p.disableLocalAuth],
      [
        'Microsoft.OperationalInsights/workspaces',
        (p: Record<string, unknown>) => (p.features as Record<string, unknown>).disableLocalAuth,
      ],
    ] as const) {
      const found = created(defaults, type);
      expect(found.length, type).toBeGreaterThan(0);
      for (const r of found) expect(read(r.body.properties as Record<string, unknown>), type).toBe(true);
    }
  });

  it('the function app has no publishing passwords and HTTPS only', () => {
    const [site] = created(defaults, 'Microsoft.Web/sites');
    expect((site!.body.properties as { httpsOnly: boolean }).httpsOnly).toBe(true);
    const policies = created(defaults, 'Microsoft.Web/sites/basicPublishingCredentialsPolicies').map((p) => [
      p.name.split('/')[1],
      (p.body.properties as { allow: boolean }).allow,
    ]);
    expect(policies).toEqual(
      expect.arrayContaining([
        ['ftp', false],
        ['scm', false],
      ]),
    );
  });
});

describe('diagnostics', () => {
  const diagnosticScopes = (e: Evaluated) =>
    created(e, 'Microsoft.Insights/diagnosticSettings').map((d) => ({
      scope: d.scope!,
      p: d.body.properties as { workspaceId: string; logs?: unknown[]; metrics?: unknown[] },
    }));

  it("sends the system topic's, Service Bus's and storage's logs and metrics to the Log Analytics workspace", () => {
    const workspace = created(defaults, 'Microsoft.OperationalInsights/workspaces')[0]!.id;
    const d = diagnosticScopes(defaults);
    for (const p of d.map((x) => x.p)) expect(p.workspaceId).toBe(workspace);
    const has = (pattern: RegExp) => d.some((x) => pattern.test(x.scope));
    expect(has(/Microsoft\.EventGrid\/systemTopics\/[^/]+$/), 'system topic').toBe(true);
    expect(has(/Microsoft\.ServiceBus\/namespaces\/[^/]+$/), 'Service Bus').toBe(true);
    for (const service of ['', '/queueServices/default', '/blobServices/default', '/tableServices/default']) {
      expect(
        d.some((x) => new RegExp(`Microsoft\\.Storage/storageAccounts/[^/]+${service}$`).test(x.scope)),
        `storage${service}`,
      ).toBe(true);
    }
    expect(diagnosticScopes(storageTransport).some((x) => /Microsoft\.ServiceBus/.test(x.scope))).toBe(false);
  });
});

describe('an existing Communication Services resource and its system topic', () => {
  it('grants and subscribes where the resource lives, and adopts its system topic instead of making a second one', () => {
    const acsAssignment = roleAssignments(existingAcs).find((a) => a.scope!.includes('Microsoft.Communication'))!;
    expect(acsAssignment.scope).toMatch(
      /\/resourceGroups\/rg-sms-numbers\/providers\/Microsoft\.Communication\/communicationServices\/acs-contoso-sms$/,
    );
    expect(created(existingAcs, 'Microsoft.Communication/communicationServices')).toEqual([]);
    const [topic] = created(existingAcs, 'Microsoft.EventGrid/systemTopics');
    expect(topic!.id).toMatch(
      /\/resourceGroups\/rg-sms-numbers\/providers\/Microsoft\.EventGrid\/systemTopics\/acs-contoso-events$/,
    );
    expect((topic!.body.identity as { type: string }).type).toBe('SystemAssigned');
    expect((topic!.body.properties as { source: string }).source).toMatch(/communicationServices\/acs-contoso-sms$/);
    expect(existingAcs.outputs.EVENTGRID_SYSTEM_TOPIC_NAME).toBe('acs-contoso-events');
    expect(existingAcs.outputs.EVENTGRID_SYSTEM_TOPIC_RESOURCE_GROUP).toBe('rg-sms-numbers');
    // Its tags are its own, not this environment's.
    expect(String(topic!.body.tags)).toMatch(/reference\(.*systemTopics\/acs-contoso-events, full\)\.\?tags/);
  });
});

describe('documentation and tags', () => {
  it('has a description on every parameter and output of every compiled template', () => {
    const check = (t: Template, where: string) => {
      for (const [name, p] of Object.entries(t.parameters ?? {}))
        expect(p.metadata?.description, `${where} param ${name}`).toBeTruthy();
      for (const [name, o] of Object.entries(t.outputs ?? {}))
        expect(o.metadata?.description, `${where} output ${name}`).toBeTruthy();
      for (const r of t.resources) {
        if (r.type === 'Microsoft.Resources/deployments')
          check((r.properties as { template: Template }).template, `${where} > ${String(r.name)}`);
      }
    };
    for (const name of ['main', 'eventgrid-subscriptions'])
      check(JSON.parse(readFileSync(path.join(compiledDir, `${name}.json`), 'utf8')) as Template, name);
  });

  it('tags every top-level resource it creates with azd-env-name, and the function app as azd service "api"', () => {
    for (const r of defaults.resources) {
      const topLevel = r.type.split('/').length === 2;
      if (!topLevel || /^Microsoft\.(Authorization|Resources\/deployments|Insights\/diagnosticSettings)/i.test(r.type)) continue;
      expect((r.body.tags as Record<string, string> | undefined)?.['azd-env-name'], `${r.type} ${r.name}`).toBe('sms-dev');
    }
    const [site] = created(defaults, 'Microsoft.Web/sites');
    expect((site!.body.tags as Record<string, string>)['azd-service-name']).toBe('api');
  });
});

describe('isForbiddenRoleName', () => {
  it('refuses management roles and accepts data roles', () => {
    expect(isForbiddenRoleName('Owner')).toBe(true);
    expect(isForbiddenRoleName('Contributor')).toBe(true);
    expect(isForbiddenRoleName('Communication and Email Service Owner')).toBe(true);
    expect(isForbiddenRoleName('Storage Account Contributor')).toBe(true);
    expect(isForbiddenRoleName('Storage Blob Data Owner')).toBe(true);
    expect(isForbiddenRoleName('Storage Blob Data Contributor')).toBe(false);
    expect(isForbiddenRoleName('ACS SMS Sender (custom)')).toBe(false);
  });
});
