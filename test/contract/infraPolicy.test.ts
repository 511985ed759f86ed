// Security policy of infra/: least-privilege role assignments, no secrets in app settings, local
// (key) authentication off, and a @description on every parameter and output. Read from the Bicep
// text (test/contract/bicepText.ts) because the Bicep compiler cannot run here.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  type BicepFile,
  BicepProject,
  type ResourceDecl,
  arrayItems,
  getProperty,
  objectEntries,
  splitArguments,
  stringLiteral,
  stringParts,
} from './bicepText.js';

const infraDir = resolve(fileURLToPath(new URL('../../infra', import.meta.url)));
const project = new BicepProject(infraDir);
const files = [...project.files.values()];

/** Built-in role names and ids, from https://learn.microsoft.com/azure/role-based-access-control/built-in-roles. */
const BUILT_IN_ROLE_IDS: Record<string, string> = {
  Owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  Contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  Reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
  'User Access Administrator': '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
  'Communication and Email Service Owner': '09976791-48a7-449e-bb21-39d1a415f350',
  'Storage Blob Data Owner': 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  'Storage Blob Data Contributor': 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  'Storage Blob Data Reader': '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
  'Storage Queue Data Contributor': '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  'Storage Queue Data Message Sender': 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a',
  'Storage Table Data Contributor': '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  'Azure Service Bus Data Owner': '090c5cfd-751d-490a-894a-3ce6f1109419',
  'Azure Service Bus Data Sender': '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39',
  'Azure Service Bus Data Receiver': '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0',
  'EventGrid Contributor': '1e241071-0855-49ea-94dc-649edcd759de',
  'EventGrid Data Sender': 'd5a91429-5739-47e2-a06b-3470a27159e7',
  'Monitoring Metrics Publisher': '3913510d-42f4-4e42-8a64-420c390055eb',
};

/** Role definition ids that must not appear anywhere in infra/, whatever they are called there. */
const FORBIDDEN_ROLE_IDS = [
  BUILT_IN_ROLE_IDS.Owner!,
  BUILT_IN_ROLE_IDS.Contributor!,
  BUILT_IN_ROLE_IDS['Communication and Email Service Owner']!,
  // Listed in the issue as Contributor; kept so the id can never slip in under any name.
  'b24988ac-6180-4ab5-8eb7-1e27bfb7ecd4',
];

/**
 * Owner and Contributor roles manage resources or access (keys, deletion, role assignments). Any
 * role with "Owner" in its name is refused, and so is any "Contributor" role except the data-plane
 * "... Data Contributor" roles (read/write data, nothing else), which are what least privilege uses.
 */
function isForbiddenRoleName(name: string): boolean {
  if (/\bowner\b/i.test(name)) return true;
  return /\bcontributor\b/i.test(name) && !/\bdata contributor\b/i.test(name);
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface RoleRef {
  kind: 'builtIn' | 'custom' | 'parameter';
  name: string;
  id?: string;
  /** For custom roles: the actions they allow. */
  actions?: string[];
}

interface RoleAssignment {
  file: BicepFile;
  resource: ResourceDecl;
  label: string;
  roles: RoleRef[];
}

/** Replaces identifiers that are vars of the file with their values, repeatedly, for text searches. */
function expandVars(file: BicepFile, expr: string): string {
  let text = expr;
  for (let round = 0; round < 10; round++) {
    let changed = false;
    text = text.replace(/(?<![\w.'])([A-Za-z_]\w*)(?![\w([])/g, (whole, id: string) => {
      const v = file.vars.find((d) => d.name === id);
      if (!v) return whole;
      changed = true;
      return `(${v.value})`;
    });
    if (!changed) break;
  }
  return text;
}

/** The roles a roleDefinitionId expression can grant, by name. */
function rolesOf(file: BicepFile, expr: string): RoleRef[] {
  const roles: RoleRef[] = [];
  const text = expandVars(file, expr);
  // MAP['Role name'] where MAP is an object var of role names → ids.
  for (const m of text.matchAll(/([A-Za-z_]\w*)\s*\[\s*('(?:[^'\\]|\\.)*')\s*\]/g)) {
    const map = file.vars.find((v) => v.name === m[1]);
    const name = stringLiteral(m[2]!);
    if (!map || name === undefined || !map.value.trim().startsWith('{')) continue;
    const entry = objectEntries(map.value).find((e) => e.key === name);
    roles.push({ kind: 'builtIn', name, ...(entry ? { id: stringLiteral(entry.value) ?? entry.value } : {}) });
  }
  // A role definition created in the same file, referred to by symbol.
  for (const resource of file.resources.filter((r) => r.type.toLowerCase() === 'microsoft.authorization/roledefinitions')) {
    if (!new RegExp(`(?<![\\w.])${resource.symbol}\\.(id|name)\\b`).test(text)) continue;
    const roleName = getProperty(resource.body, ['properties', 'roleName']) ?? '';
    const parts = stringParts(roleName) ?? [];
    const permissions = getProperty(resource.body, ['properties', 'permissions']) ?? '[]';
    const actions = arrayItems(permissions).flatMap((p) => {
      const list = getProperty(p, ['actions']);
      return list ? arrayItems(list).map((a) => stringLiteral(a) ?? a) : [];
    });
    roles.push({
      kind: 'custom',
      name: parts.map((p) => ('text' in p ? p.text : '…')).join(''),
      actions,
    });
  }
  // An id handed in from outside (documented escape hatch); it cannot be checked here.
  for (const p of file.params) {
    if (new RegExp(`(?<![\\w.'])${p.name}(?![\\w])`).test(text)) roles.push({ kind: 'parameter', name: `param ${p.name}` });
  }
  return roles;
}

function roleAssignments(): RoleAssignment[] {
  return project.resourcesOfType('Microsoft.Authorization/roleAssignments').map(({ file, resource }) => ({
    file,
    resource,
    label: `${project.name(file)}:${resource.line} ${resource.symbol}`,
    roles: rolesOf(file, getProperty(resource.body, ['properties', 'roleDefinitionId']) ?? ''),
  }));
}

function allInfraFiles(dir = infraDir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? allInfraFiles(full) : [full];
  });
}

interface AppSetting {
  file: BicepFile;
  name: string;
  value: string;
}

/** Every app setting any Web/sites resource sets, from config/appsettings or siteConfig.appSettings. */
function appSettings(): AppSetting[] {
  const settings: AppSetting[] = [];
  for (const { file, resource } of project.resourcesOfType('Microsoft.Web/sites/config')) {
    const name = stringLiteral(getProperty(resource.body, ['name']) ?? '');
    if (name?.toLowerCase() !== 'appsettings') continue;
    for (const e of objectEntries(getProperty(resource.body, ['properties']) ?? '{}')) {
      settings.push({ file, name: e.key, value: e.value });
    }
  }
  for (const { file, resource } of project.resourcesOfType('Microsoft.Web/sites')) {
    const list = getProperty(resource.body, ['properties', 'siteConfig', 'appSettings']);
    if (!list) continue;
    for (const item of arrayItems(list)) {
      settings.push({
        file,
        name: stringLiteral(getProperty(item, ['name']) ?? '') ?? '?',
        value: getProperty(item, ['value']) ?? '',
      });
    }
  }
  return settings;
}

/** Setting values that would put a credential into configuration. */
const SECRET_VALUE =
  /AccountKey=|SharedAccessKey|SharedAccessSignature|[?&]sig=|DefaultEndpointsProtocol|Endpoint=sb:|accesskey=|ConnectionString|listKeys|listConnectionStrings|listAccountSas|listServiceSas|listCredentials|listSecrets|\.keys\b|primaryKey|secondaryKey|InstrumentationKey/i;

/** Setting names that only ever hold a credential. */
const SECRET_NAME =
  /^(AzureWebJobsStorage|ServiceBusConnection|ACS_CONNECTION_STRING|EVENTGRID_TOPIC_KEY|STATUS_WEBHOOK_SECRET|APPINSIGHTS_INSTRUMENTATIONKEY|WEBSITE_CONTENTAZUREFILECONNECTIONSTRING)$|_KEY$|_SECRET$|_PASSWORD$|CONNECTION_STRING$/i;

describe('infra policy: role assignments', () => {
  const assignments = roleAssignments();

  it('finds the role assignments (the reader works)', () => {
    expect(assignments.length).toBeGreaterThanOrEqual(8);
  });

  it('names every role it grants, and each role assignment grants a role this reader can name', () => {
    for (const a of assignments) {
      expect(
        a.roles.filter((r) => r.kind !== 'parameter'),
        `${a.label}: which role is this?`,
      ).not.toEqual([]);
    }
  });

  it('grants no Owner or Contributor role (by name)', () => {
    for (const a of assignments) {
      for (const role of a.roles) {
        expect(isForbiddenRoleName(role.name), `${a.label} grants "${role.name}"`).toBe(false);
      }
    }
  });

  it('uses the real built-in role definition ids for the role names it maps', () => {
    for (const a of assignments) {
      for (const role of a.roles.filter((r) => r.kind === 'builtIn')) {
        expect(
          BUILT_IN_ROLE_IDS[role.name],
          `${a.label}: "${role.name}" is not a built-in role this test knows; check its id in the Azure docs and add it`,
        ).toBeDefined();
        expect(role.id?.toLowerCase(), `${a.label}: id of "${role.name}"`).toBe(BUILT_IN_ROLE_IDS[role.name]);
      }
    }
  });

  it('lets custom roles do only named, non-destructive actions', () => {
    for (const a of assignments) {
      for (const role of a.roles.filter((r) => r.kind === 'custom')) {
        expect(role.actions, `${a.label}: actions of custom role "${role.name}"`).not.toEqual([]);
        for (const action of role.actions ?? []) {
          expect(action, `${a.label}: "${role.name}" allows ${action}`).not.toMatch(
            /\*|listkeys|regeneratekey|delete|microsoft\.authorization/i,
          );
        }
      }
    }
  });

  it('never mentions the Owner or Contributor role definition ids', () => {
    for (const path of allInfraFiles()) {
      const text = readFileSync(path, 'utf8').toLowerCase();
      for (const id of FORBIDDEN_ROLE_IDS) {
        expect(text.includes(id), `${relative(infraDir, path)} mentions role definition ${id}`).toBe(false);
      }
    }
  });

  it('states principalType on every role assignment', () => {
    for (const a of assignments) {
      const principalType = getProperty(a.resource.body, ['properties', 'principalType']);
      expect(principalType, `${a.label}: principalType`).toBeDefined();
      expect(['ServicePrincipal', 'Group', 'User']).toContain(project.resolveString(a.file, principalType!));
    }
  });

  it('names every role assignment guid(scope.id, principalId, roleDefinitionId)', () => {
    for (const a of assignments) {
      const name = getProperty(a.resource.body, ['name']) ?? '';
      const m = /^guid\(([\s\S]*)\)$/.exec(name.trim());
      expect(m, `${a.label}: name must be guid(...), is ${name}`).not.toBeNull();
      const args = splitArguments(m![1]!);
      const scope = getProperty(a.resource.body, ['scope']);
      const principalId = getProperty(a.resource.body, ['properties', 'principalId']);
      const roleDefinitionId = getProperty(a.resource.body, ['properties', 'roleDefinitionId']);
      expect(args, `${a.label}: guid(scope.id, principalId, roleDefinitionId)`).toEqual([
        scope ? `${scope}.id` : 'resourceGroup().id',
        principalId,
        roleDefinitionId,
      ]);
    }
  });

  it('grants data roles on single resources, never on a resource group or subscription', () => {
    for (const a of assignments) {
      const scope = getProperty(a.resource.body, ['scope']);
      expect(scope, `${a.label}: scope`).toBeDefined();
      expect(scope).not.toMatch(/resourceGroup\(|subscription\(/);
      const target = a.file.resources.find((r) => r.symbol === scope);
      expect(target, `${a.label}: scope ${scope} is a resource of the file`).toBeDefined();
    }
  });
});

describe('infra policy: the function identity can reach what the code uses', () => {
  const assignments = roleAssignments();
  const functionAssignments = assignments.filter((a) => getProperty(a.resource.body, ['properties', 'principalId']) === 'functionPrincipalId');

  /** The resource an assignment is scoped to, with its type and resolved name. */
  const scopeOf = (a: RoleAssignment) => {
    const symbol = getProperty(a.resource.body, ['scope']);
    const target = a.file.resources.find((r) => r.symbol === symbol);
    return { type: target?.type, name: target ? project.resolveString(a.file, getProperty(target.body, ['name']) ?? '') : undefined, symbol };
  };

  it('holds Storage Queue Data Contributor on every storage queue infra creates: the outbound pair and the event outbox pair', () => {
    const created = project.resourcesOfType('Microsoft.Storage/storageAccounts/queueServices/queues').filter((r) => !r.resource.existing);
    expect(created).toHaveLength(1);
    const { file, resource } = created[0]!;
    const queues = project.resolveArray(file, resource.loop!.source)!;
    expect(queues).toEqual(expect.arrayContaining(['sms-outbound', 'sms-outbound-poison', 'sms-events', 'sms-events-poison']));
    const granted = functionAssignments
      .filter((a) => a.roles.some((r) => r.name === 'Storage Queue Data Contributor'))
      .map(scopeOf)
      .filter((s) => s.type === 'Microsoft.Storage/storageAccounts/queueServices/queues')
      .map((s) => s.name);
    for (const queue of queues) expect(granted, `no Storage Queue Data Contributor on queue ${queue}`).toContain(queue);
  });

  it('holds EventGrid Data Sender on the status topic, the one EVENTGRID_TOPIC_ENDPOINT points at', () => {
    const sender = functionAssignments.filter((a) => a.roles.some((r) => r.name === 'EventGrid Data Sender'));
    expect(sender).toHaveLength(1);
    const scope = scopeOf(sender[0]!);
    expect(scope.type).toBe('Microsoft.EventGrid/topics');
    // rbac.bicep gets the topic's name and the function app its endpoint from the same module.
    const topicNameParam = /^([A-Za-z_]\w*)$/.exec(getProperty(sender[0]!.file.resources.find((r) => r.symbol === scope.symbol)!.body, ['name']) ?? '')?.[1];
    const main = project.file('main.bicep');
    const moduleOf = (symbol: string, param: string) => /^([A-Za-z_]\w*)\.outputs\.\w+$/.exec(getProperty(main.modules.find((m) => m.symbol === symbol)!.body, ['params', param]) ?? '')?.[1];
    const topicModule = moduleOf('rbac', topicNameParam!);
    expect(topicModule).toBeDefined();
    expect(main.modules.find((m) => m.symbol === topicModule)?.path).toBe('modules/eventgrid-topic.bicep');
    expect(moduleOf('api', 'eventGridTopicEndpoint')).toBe(topicModule);
  });
});

describe('infra policy: no secrets in configuration', () => {
  const settings = appSettings();

  it('finds the app settings (the reader works)', () => {
    expect(settings.length).toBeGreaterThan(5);
  });

  it('sets no setting whose name means a credential', () => {
    for (const s of settings) {
      if (s.name === 'APPLICATIONINSIGHTS_CONNECTION_STRING') continue;
      expect(s.name, `${project.name(s.file)} sets ${s.name}`).not.toMatch(SECRET_NAME);
    }
  });

  it('puts no connection string, key or SAS into any setting value', () => {
    for (const s of settings) {
      if (s.name === 'APPLICATIONINSIGHTS_CONNECTION_STRING') continue;
      const expanded = expandVars(s.file, s.value);
      expect(expanded, `${project.name(s.file)}: ${s.name}`).not.toMatch(SECRET_VALUE);
    }
  });

  it('allows the Application Insights connection string only from a component with local auth disabled', () => {
    const aiSettings = settings.filter((s) => s.name === 'APPLICATIONINSIGHTS_CONNECTION_STRING');
    for (const s of aiSettings) {
      const m = /^([A-Za-z_]\w*)\.properties\.ConnectionString$/.exec(s.value);
      expect(m, `APPLICATIONINSIGHTS_CONNECTION_STRING = ${s.value}`).not.toBeNull();
      const component = s.file.resources.find((r) => r.symbol === m![1]);
      expect(component?.type).toBe('Microsoft.Insights/components');
      expect(
        settings.find((x) => x.file === s.file && x.name === 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING')?.value,
        'telemetry must be sent with Entra ID',
      ).toMatch(/Authorization=AAD/);
    }
    const components = project.resourcesOfType('Microsoft.Insights/components').filter((c) => !c.resource.existing);
    expect(components.length).toBeGreaterThan(0);
    for (const { resource } of components) {
      expect(getProperty(resource.body, ['properties', 'DisableLocalAuth']), `${resource.symbol}: DisableLocalAuth`).toBe('true');
    }
  });

  it('exposes no keys or connection strings through outputs or @secure parameters', () => {
    for (const file of files) {
      for (const o of file.outputs) {
        if (o.name === 'APPLICATIONINSIGHTS_CONNECTION_STRING' || o.name === 'connectionString') {
          expect(o.value, `${project.name(file)}: output ${o.name}`).toMatch(
            /^[A-Za-z_]\w*\.(properties\.ConnectionString|outputs\.connectionString)$/,
          );
          continue;
        }
        expect(expandVars(file, o.value), `${project.name(file)}: output ${o.name}`).not.toMatch(SECRET_VALUE);
      }
      for (const p of file.params) {
        expect(
          p.decorators.map((d) => d.name),
          `${project.name(file)}: param ${p.name} is @secure`,
        ).not.toContain('secure');
      }
    }
  });
});

describe('infra policy: local authentication is off', () => {
  const created = (type: string) => project.resourcesOfType(type).filter((r) => !r.resource.existing);

  it('storage accepts Entra ID only, over TLS 1.2, with no public blobs', () => {
    const accounts = created('Microsoft.Storage/storageAccounts');
    expect(accounts.length).toBeGreaterThan(0);
    for (const { resource } of accounts) {
      expect(getProperty(resource.body, ['properties', 'allowSharedKeyAccess'])).toBe('false');
      expect(getProperty(resource.body, ['properties', 'allowBlobPublicAccess'])).toBe('false');
      expect(getProperty(resource.body, ['properties', 'minimumTlsVersion'])).toBe("'TLS1_2'");
    }
  });

  it('Service Bus, Event Grid topics and Log Analytics have local auth disabled', () => {
    for (const [type, path] of [
      ['Microsoft.ServiceBus/namespaces', ['properties', 'disableLocalAuth']],
      ['Microsoft.EventGrid/topics', ['properties', 'disableLocalAuth']],
      ['Microsoft.OperationalInsights/workspaces', ['properties', 'features', 'disableLocalAuth']],
    ] as const) {
      const resources = created(type);
      expect(resources.length, type).toBeGreaterThan(0);
      for (const { resource } of resources) expect(getProperty(resource.body, path), `${type} ${resource.symbol}`).toBe('true');
    }
  });

  it('the function app has no publishing passwords and HTTPS only', () => {
    const sites = created('Microsoft.Web/sites');
    expect(sites.length).toBe(1);
    expect(getProperty(sites[0]!.resource.body, ['properties', 'httpsOnly'])).toBe('true');
    const policies = created('Microsoft.Web/sites/basicPublishingCredentialsPolicies').map(({ resource }) => ({
      name: stringLiteral(getProperty(resource.body, ['name']) ?? ''),
      allow: getProperty(resource.body, ['properties', 'allow']),
    }));
    expect(policies).toEqual(
      expect.arrayContaining([
        { name: 'ftp', allow: 'false' },
        { name: 'scm', allow: 'false' },
      ]),
    );
  });
});

describe('infra policy: documentation and tags', () => {
  it('has a @description on every param and output in every .bicep file', () => {
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      for (const d of [
        ...file.params.map((p) => ({ kind: 'param', ...p })),
        ...file.outputs.map((o) => ({ kind: 'output', ...o })),
      ]) {
        const description = d.decorators.find((x) => x.name === 'description');
        expect(description, `${project.name(file)}:${d.line} ${d.kind} ${d.name} has no @description`).toBeDefined();
        expect(stringLiteral(description!.args)?.trim() ?? description!.args, `${project.name(file)}: ${d.name}`).not.toBe('');
      }
    }
  });

  it('tags every resource it creates (azd-env-name flows from main.bicep)', () => {
    const main = project.file('main.bicep');
    const tags = main.vars.find((v) => v.name === 'tags');
    expect(tags && objectEntries(tags.value).map((e) => e.key)).toContain('azd-env-name');
    for (const file of files) {
      for (const r of file.resources) {
        const topLevel = r.type.split('/').length === 2;
        if (r.existing || !topLevel || /^Microsoft\.(Authorization|Resources\/deployments)/i.test(r.type)) continue;
        expect(getProperty(r.body, ['tags']), `${project.name(file)}: ${r.symbol} (${r.type}) has no tags`).toBeDefined();
      }
      for (const call of project.callsOf(file)) {
        if (!file.params.some((p) => p.name === 'tags')) continue;
        expect(getProperty(call.decl.body, ['params', 'tags']), `${call.decl.symbol} passes tags`).toBe('tags');
      }
    }
  });

  it('marks the function app as azd service "api"', () => {
    const [site] = project.resourcesOfType('Microsoft.Web/sites').filter((r) => !r.resource.existing);
    const tags = getProperty(site!.resource.body, ['tags']) ?? '';
    expect(tags).toMatch(/'azd-service-name'\s*:\s*'api'/);
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
    expect(isForbiddenRoleName('Azure Service Bus Data Sender')).toBe(false);
    expect(isForbiddenRoleName('ACS SMS Sender (…)')).toBe(false);
  });

  it('knows each built-in id only once', () => {
    const ids = Object.values(BUILT_IN_ROLE_IDS);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(GUID);
  });
});
