// Contract between the code and infra/: the function app sets every setting the code needs in Azure
// (and nothing it doesn't know), the tables and queues infra creates are the ones the code uses, the
// Event Grid subscriptions point at functions the app registers, and the azd wiring (parameters,
// outputs, hooks) fits together. The Bicep compiler cannot run here, so infra is read as text.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { settingsSchema } from '../../shared/settings.js';
import { DEFAULT_OUTBOUND_QUEUE, TABLES } from '../../shared/resourceNames.js';
import { BicepProject, getProperty, objectEntries, stringLiteral } from './bicepText.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const infraDir = resolve(root, 'infra');
const project = new BicepProject(infraDir);
const main = project.file('main.bicep');
const functionApp = project.file('modules/function-app.bicep');
const subscriptionsFile = project.file('eventgrid-subscriptions.bicep');

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
] as const;

/** Settings read by the Functions host or the platform rather than by the pipeline's code. */
const HOST_SETTING =
  /^(FUNCTIONS_EXTENSION_VERSION|FUNCTIONS_WORKER_RUNTIME|WEBSITE_[A-Z0-9_]+|APPLICATIONINSIGHTS_[A-Z0-9_]+|AzureWebJobsStorage__(credential|clientId)|ServiceBusConnection__(credential|clientId))$/;

const schemaKeys = Object.keys(settingsSchema.shape);

/** The function app's settings: name → Bicep expression. */
function appSettings(): Map<string, string> {
  const config = functionApp.resources.find(
    (r) => r.type === 'Microsoft.Web/sites/config' && stringLiteral(getProperty(r.body, ['name']) ?? '') === 'appsettings',
  );
  if (!config) throw new Error('modules/function-app.bicep has no Microsoft.Web/sites/config "appsettings" resource');
  return new Map(objectEntries(getProperty(config.body, ['properties']) ?? '{}').map((e) => [e.key, e.value]));
}

const settings = appSettings();
const settingValue = (name: string) => {
  const expr = settings.get(name);
  return expr === undefined ? undefined : project.resolveString(functionApp, expr);
};

/** The name of the one resource of a type that infra creates, resolved to a string. */
function createdName(type: string): string | undefined {
  const found = project.resourcesOfType(type).filter((r) => !r.resource.existing);
  expect(found.length, `resources of type ${type}`).toBe(1);
  const { file, resource } = found[0]!;
  return project.resolveString(file, getProperty(resource.body, ['name']) ?? '');
}

/** Names of the resources a looped resource declaration creates. */
function loopedNames(type: string): string[] {
  const found = project.resourcesOfType(type).filter((r) => !r.resource.existing);
  expect(found.length, `declarations of ${type}`).toBe(1);
  const { file, resource } = found[0]!;
  expect(resource.loop, `${type} is declared with a loop over a list of names`).toBeDefined();
  expect(getProperty(resource.body, ['name']), `${type} is named by its loop item`).toBe(resource.loop!.item);
  const names = project.resolveArray(file, resource.loop!.source);
  expect(names, `the list ${resource.loop!.source} can be read from the Bicep text`).toBeDefined();
  return names!;
}

/** Function names and event types of the Event Grid subscriptions of stage two. */
function eventGridSubscriptions(): Array<{ name: string; functionName: string; eventTypes: string[] }> {
  return subscriptionsFile.resources
    .filter((r) => r.type === 'Microsoft.EventGrid/systemTopics/eventSubscriptions')
    .map((r) => {
      const destination = getProperty(r.body, ['properties', 'destination']) ?? '';
      const resourceId = getProperty(destination, ['properties', 'resourceId']) ?? '';
      const types = getProperty(r.body, ['properties', 'filter', 'includedEventTypes']) ?? '[]';
      return {
        name: stringLiteral(getProperty(r.body, ['name']) ?? '') ?? r.symbol,
        endpointType: stringLiteral(getProperty(destination, ['endpointType']) ?? ''),
        functionName: /\/functions\/([A-Za-z_][\w-]*)'$/.exec(resourceId)?.[1] ?? '',
        eventTypes: [...types.matchAll(/'([^']+)'/g)].map((m) => m[1]!),
      };
    })
    .map((s) => {
      expect(s.endpointType, `${s.name}: destination endpointType`).toBe('AzureFunction');
      expect(s.functionName, `${s.name}: destination is <functionApp.id>/functions/<name>`).not.toBe('');
      return s;
    });
}

describe('infra sets the settings the code reads', () => {
  it('requires only settings that the code still declares', () => {
    for (const name of REQUIRED_IN_AZURE) expect(schemaKeys, `settingsSchema has no ${name}`).toContain(name);
  });

  it('sets every setting the code needs in Azure', () => {
    for (const name of REQUIRED_IN_AZURE) {
      expect(settings.has(name), `modules/function-app.bicep does not set ${name}`).toBe(true);
    }
  });

  it('sets no setting the code does not know (other than host settings)', () => {
    for (const name of settings.keys()) {
      if (HOST_SETTING.test(name)) continue;
      expect(schemaKeys, `${name} is set by infra but not read by the code (settingsSchema)`).toContain(name);
    }
  });

  it('sets values the code accepts, where they are known before deployment', () => {
    for (const [name, expr] of settings) {
      const field = settingsSchema.shape[name as keyof typeof settingsSchema.shape];
      const value = project.resolveString(functionApp, expr);
      if (!field || value === undefined || value === '') continue;
      const parsed = field.safeParse(value);
      expect(parsed.success, `${name} = ${JSON.stringify(value)}: ${parsed.error?.message ?? ''}`).toBe(true);
    }
  });

  it('connects with the user-assigned identity everywhere', () => {
    expect(settingValue('AzureWebJobsStorage__credential')).toBe('managedidentity');
    expect(settingValue('ServiceBusConnection__credential')).toBe('managedidentity');
    const clientId = settings.get('AZURE_CLIENT_ID');
    expect(clientId).toBeDefined();
    expect(settings.get('AzureWebJobsStorage__clientId')).toBe(clientId);
    expect(settings.get('ServiceBusConnection__clientId')).toBe(clientId);
    expect(settings.get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING')).toBe(`'ClientId=\${${clientId}};Authorization=AAD'`);
    const identity = getProperty(functionApp.resources.find((r) => r.type === 'Microsoft.Web/sites')!.body, ['identity', 'type']);
    expect(identity).toBe("'UserAssigned'");
  });

  it('sends through Service Bus, on the queue infra creates', () => {
    expect(settingValue('OUTBOUND_QUEUE_TRANSPORT')).toBe('servicebus');
    const queue = createdName('Microsoft.ServiceBus/namespaces/queues');
    expect(queue).toBe(DEFAULT_OUTBOUND_QUEUE);
    expect(settingValue('OUTBOUND_QUEUE_NAME')).toBe(queue);
  });

  it('runs on Flex Consumption with Node 20 and a deployment container authenticated by the identity', () => {
    const site = functionApp.resources.find((r) => r.type === 'Microsoft.Web/sites')!;
    const config = getProperty(site.body, ['properties', 'functionAppConfig'])!;
    expect(getProperty(config, ['runtime', 'name'])).toBe("'node'");
    expect(getProperty(config, ['runtime', 'version'])).toBe("'20'");
    expect(getProperty(config, ['deployment', 'storage', 'authentication', 'type'])).toBe("'UserAssignedIdentity'");
    expect(getProperty(config, ['scaleAndConcurrency', 'instanceMemoryMB'])).toBe('instanceMemoryMB');
    expect(getProperty(config, ['scaleAndConcurrency', 'maximumInstanceCount'])).toBe('maximumInstanceCount');
    const plan = functionApp.resources.find((r) => r.type === 'Microsoft.Web/serverfarms')!;
    expect(getProperty(plan.body, ['sku', 'name'])).toBe("'FC1'");
  });
});

describe('infra creates the storage the code uses', () => {
  it('creates exactly the tables in TABLES', () => {
    const tables = loopedNames('Microsoft.Storage/storageAccounts/tableServices/tables');
    expect([...tables].sort()).toEqual(Object.values(TABLES).sort());
  });

  it('creates the storage-queue variant of the outbound queue and its poison queue', () => {
    const queues = loopedNames('Microsoft.Storage/storageAccounts/queueServices/queues');
    expect(queues).toEqual(expect.arrayContaining([DEFAULT_OUTBOUND_QUEUE, `${DEFAULT_OUTBOUND_QUEUE}-poison`]));
  });

  it('configures the Service Bus queue for idempotent, never-silently-dropped jobs', () => {
    const queues = project.resourcesOfType('Microsoft.ServiceBus/namespaces/queues').filter((r) => !r.resource.existing);
    expect(queues.length).toBe(1);
    const p = (key: string) => getProperty(queues[0]!.resource.body, ['properties', key]);
    expect(p('requiresDuplicateDetection')).toBe('true');
    expect(p('duplicateDetectionHistoryTimeWindow')).toBeDefined();
    expect(p('deadLetteringOnMessageExpiration')).toBe('true');
    expect(p('requiresSession')).toBe('false');
    // The lock must outlast one ACS timeout plus an inline pacing wait.
    const lock = /^'PT(?:(\d+)M)?(?:(\d+)S)?'$/.exec(p('lockDuration') ?? '');
    expect(lock).not.toBeNull();
    const lockSeconds = Number(lock![1] ?? 0) * 60 + Number(lock![2] ?? 0);
    const timeoutMs = Number(settingValue('ACS_REQUEST_TIMEOUT_MS') ?? 15_000);
    expect(lockSeconds).toBeGreaterThan(timeoutMs / 1000 + 5);
    expect(lockSeconds).toBeLessThanOrEqual(300);
  });
});

describe('stage two subscribes the functions to the ACS events', () => {
  it('subscribes each function to the ACS event it handles', () => {
    const byFunction = Object.fromEntries(eventGridSubscriptions().map((s) => [s.functionName, s.eventTypes]));
    expect(byFunction).toEqual({
      deliveryReports: ['Microsoft.Communication.SMSDeliveryReportReceived'],
      inboundSms: ['Microsoft.Communication.SMSReceived'],
    });
  });

  it("retries, then dead-letters to blob storage with the system topic's identity", () => {
    const subscriptions = subscriptionsFile.resources.filter(
      (r) => r.type === 'Microsoft.EventGrid/systemTopics/eventSubscriptions',
    );
    for (const r of subscriptions) {
      const resolveObject = (expr: string | undefined) => {
        const v = expr && subscriptionsFile.vars.find((x) => x.name === expr);
        return v ? v.value : (expr ?? '');
      };
      const retry = resolveObject(getProperty(r.body, ['properties', 'retryPolicy']));
      expect(getProperty(retry, ['maxDeliveryAttempts']), `${r.symbol}: retryPolicy`).toBeDefined();
      expect(getProperty(retry, ['eventTimeToLiveInMinutes']), `${r.symbol}: retryPolicy`).toBeDefined();
      const deadLetter = resolveObject(getProperty(r.body, ['properties', 'deadLetterWithResourceIdentity']));
      expect(getProperty(deadLetter, ['identity', 'type'])).toBe("'SystemAssigned'");
      expect(getProperty(deadLetter, ['deadLetterDestination', 'endpointType'])).toBe("'StorageBlob'");
    }
    const [topic] = project.resourcesOfType('Microsoft.EventGrid/systemTopics').filter((t) => !t.resource.existing);
    expect(getProperty(topic!.resource.body, ['identity', 'type'])).toBe("'SystemAssigned'");
    expect(getProperty(topic!.resource.body, ['properties', 'topicType'])).toBe(
      "'Microsoft.Communication.CommunicationServices'",
    );
  });
});

describe('azd wiring', () => {
  it('main.bicep is a subscription deployment with the outputs azd and the hooks need', () => {
    expect(main.statements.find((s) => s.keyword === 'targetScope')?.text).toMatch(/'subscription'/);
    const outputs = main.outputs.map((o) => o.name);
    for (const name of [
      'AZURE_LOCATION',
      'AZURE_TENANT_ID',
      'AZURE_RESOURCE_GROUP',
      'AZURE_FUNCTION_APP_NAME',
      'SERVICE_API_NAME',
      'SERVICE_API_URI',
    ]) {
      expect(outputs).toContain(name);
    }
    for (const name of outputs) expect(name, 'azd outputs are UPPER_SNAKE').toMatch(/^[A-Z][A-Z0-9_]*$/);
  });

  it('names resources from abbreviations.json and the resource token', () => {
    const abbreviations = JSON.parse(readFileSync(resolve(infraDir, 'abbreviations.json'), 'utf8')) as Record<string, string>;
    expect(main.vars.find((v) => v.name === 'abbrs')?.value).toBe("loadJsonContent('abbreviations.json')");
    expect(main.vars.find((v) => v.name === 'resourceToken')?.value).toBe(
      'toLower(uniqueString(subscription().id, environmentName, location))',
    );
    for (const m of main.code.matchAll(/abbrs\.(\w+)/g))
      expect(abbreviations, `abbreviations.json has ${m[1]}`).toHaveProperty(m[1]!);
  });

  it('main.parameters.json supplies every required parameter, and only parameters main.bicep has', () => {
    const parameters = JSON.parse(readFileSync(resolve(infraDir, 'main.parameters.json'), 'utf8')) as {
      parameters: Record<string, { value: unknown }>;
    };
    const supplied = Object.keys(parameters.parameters);
    for (const name of supplied)
      expect(
        main.params.map((p) => p.name),
        `main.bicep has no param ${name}`,
      ).toContain(name);
    for (const p of main.params.filter((x) => x.defaultValue === undefined)) {
      expect(supplied, `main.parameters.json does not supply ${p.name}`).toContain(p.name);
    }
    expect(parameters.parameters.environmentName?.value).toBe('${AZURE_ENV_NAME}');
    expect(parameters.parameters.location?.value).toBe('${AZURE_LOCATION}');
    expect(parameters.parameters.smsSenders?.value).toBe('${SMS_SENDERS}');
    // azd parses the JSON of an env var only for array/object parameters; substituted into a string
    // parameter, the quotes of SMS_SENDERS would break the parameters file.
    expect(main.params.find((p) => p.name === 'smsSenders')?.type).toBe('array');
  });

  it('the postdeploy hooks deploy stage two with every parameter it needs, taken from outputs main.bicep has', () => {
    const required = subscriptionsFile.params.filter((p) => p.defaultValue === undefined).map((p) => p.name);
    const known = subscriptionsFile.params.map((p) => p.name);
    const outputs = new Set([...main.outputs.map((o) => o.name), 'AZURE_SUBSCRIPTION_ID', 'AZURE_ENV_NAME', 'SMS_SENDERS']);
    const hooks = {
      'postdeploy.sh': /(\w+)="\$(\w+)"/g,
      'postdeploy.ps1': /"(\w+)=\$\(\$env:(\w+)\)"/g,
    };
    for (const [hook, pattern] of Object.entries(hooks)) {
      const text = readFileSync(resolve(infraDir, 'hooks', hook), 'utf8');
      expect(text, `${hook} deploys eventgrid-subscriptions.bicep`).toMatch(
        /az deployment group create[\s\S]*infra\/eventgrid-subscriptions\.bicep/,
      );
      const passed = new Map([...text.matchAll(pattern)].map((m) => [m[1]!, m[2]!]));
      for (const name of required) expect([...passed.keys()], `${hook} does not pass ${name}`).toContain(name);
      for (const [name, variable] of passed) {
        expect(known, `${hook} passes unknown parameter ${name}`).toContain(name);
        expect(outputs.has(variable), `${hook} reads ${variable}, which main.bicep does not output`).toBe(true);
      }
      for (const m of text.matchAll(/\b((?:AZURE|EVENTGRID|SERVICE)_[A-Z0-9_]+)\b/g)) {
        expect(outputs.has(m[1]!), `${hook} uses ${m[1]}, which is neither an output nor set by azd`).toBe(true);
      }
      for (const { functionName } of eventGridSubscriptions()) {
        expect(text, `${hook} waits for ${functionName} to be indexed`).toContain(functionName);
      }
    }
  });

  it('azure.yaml deploys the project as the function app "api" and runs the hooks', () => {
    const yaml = readFileSync(resolve(root, 'azure.yaml'), 'utf8');
    expect(yaml).toMatch(/^services:\s*\n\s+api:\s*\n(?:\s+\w+:.*\n)*?\s+host:\s*function\b/m);
    expect(yaml).toMatch(/^\s+project:\s*\.\s*$/m);
    expect(yaml).toMatch(/^\s+language:\s*(ts|js)\s*$/m);
    for (const m of yaml.matchAll(/run:\s*(?:node\s+)?\.?\/?(infra\/hooks\/[\w.-]+)/g)) {
      expect(existsSync(resolve(root, m[1]!)), `${m[1]} exists`).toBe(true);
    }
    expect(yaml).toMatch(/postdeploy:/);
  });
});

describe('infra targets the functions the app registers', () => {
  interface Binding {
    type?: string;
    direction?: string;
    [key: string]: unknown;
  }
  interface Registration {
    name: string;
    bindings: Record<string, Binding>;
    trigger: Binding;
  }

  let registrations: Registration[];

  beforeAll(async () => {
    for (const built of ['dist/functions/index.js', 'dist/local/host/functionsCore.js']) {
      if (!existsSync(resolve(root, built)))
        throw new Error(`${built} does not exist: run \`npm run build\` first (\`npm test\` does).`);
    }
    // captureRegistrations (local/host/functionsCore.ts) runs the compiled app in a child process with
    // exactly these settings, so the registrations are what the Functions host would index in Azure.
    const { captureInChild } = (await import('../support/captureRegistrations.js')) as {
      captureInChild: (env: Record<string, string>) => Registration[];
    };
    registrations = captureInChild({
      OUTBOUND_QUEUE_TRANSPORT: 'servicebus',
      ServiceBusConnection__fullyQualifiedNamespace: 'x.servicebus.windows.net',
      AzureWebJobsStorage__accountName: 'x',
      ACS_ENDPOINT: 'https://x.communication.azure.com',
      SMS_SENDERS: '[{"number":"+18005550100","type":"tollFree"}]',
    });
  });

  const bindingsOf = (r: Registration): Binding[] => [r.trigger, ...Object.values(r.bindings ?? {})];
  const triggerType = (r: Registration) => String(r.trigger?.type ?? '');

  it('registers a function for each Event Grid subscription, with an Event Grid trigger', () => {
    const subscriptions = eventGridSubscriptions();
    expect(subscriptions.map((s) => s.functionName).sort()).toEqual(['deliveryReports', 'inboundSms']);
    for (const s of subscriptions) {
      const registration = registrations.find((r) => r.name === s.functionName);
      expect(registration, `${s.name} targets ${s.functionName}, which the app does not register`).toBeDefined();
      expect(triggerType(registration!)).toMatch(/^eventGridTrigger$/i);
    }
  });

  it('points the Service Bus trigger at the queue infra creates, through OUTBOUND_QUEUE_NAME', () => {
    const triggers = registrations.filter((r) => /^serviceBusTrigger$/i.test(triggerType(r)));
    expect(triggers.length, 'a Service Bus triggered function (OUTBOUND_QUEUE_TRANSPORT=servicebus)').toBeGreaterThan(0);
    const queue = createdName('Microsoft.ServiceBus/namespaces/queues');
    for (const r of triggers) {
      const queueName = String(r.trigger.queueName ?? '');
      const setting = /^%(\w+)%$/.exec(queueName)?.[1];
      const resolved = setting ? settingValue(setting) : queueName;
      expect(resolved, `${r.name} listens on ${queueName}`).toBe(queue);
    }
  });

  it('sets every app setting a trigger or binding refers to as %NAME% (the host resolves them, not the code)', () => {
    for (const r of registrations) {
      for (const b of bindingsOf(r)) {
        for (const [key, value] of Object.entries(b ?? {})) {
          if (typeof value !== 'string') continue;
          for (const m of value.matchAll(/%([A-Za-z_][\w]*)%/g)) {
            expect(
              settings.has(m[1]!),
              `${r.name}: ${key} "${value}" needs the app setting ${m[1]}, which infra does not set`,
            ).toBe(true);
          }
        }
      }
    }
  });

  it('gives every binding connection an identity-based setting, never a connection string', () => {
    for (const r of registrations) {
      for (const b of bindingsOf(r)) {
        if (typeof b?.connection !== 'string' || !/trigger$|^(serviceBus|queue|blob|table)$/i.test(String(b.type))) continue;
        const prefix = b.connection || 'AzureWebJobsStorage';
        const identitySettings = [...settings.keys()].filter((k) => k.startsWith(`${prefix}__`));
        expect(identitySettings, `${r.name}: connection "${prefix}" has no ${prefix}__* setting`).not.toEqual([]);
        expect(settings.has(prefix), `${r.name}: ${prefix} would be a connection string`).toBe(false);
      }
    }
  });

  it('requires a function key on every HTTP route that changes something', () => {
    for (const r of registrations.filter((x) => /^httpTrigger$/i.test(triggerType(x)))) {
      const methods = (r.trigger.methods as string[] | undefined) ?? ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
      const writes = methods.some((m) => !['GET', 'HEAD', 'OPTIONS'].includes(m.toUpperCase()));
      if (writes)
        expect(String(r.trigger.authLevel ?? 'anonymous'), `${r.name} accepts ${methods.join('/')}`).not.toBe('anonymous');
    }
  });
});
