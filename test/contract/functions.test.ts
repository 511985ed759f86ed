// What the Azure Functions host would index: every function's name, trigger and binding settings,
// captured from the @azure/functions registrations of the compiled app — not a hand-written list.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { settingsSchema } from '../../shared/settings.js';
import { captureInChild, type CapturedFunction } from '../support/captureRegistrations.js';
import { root } from '../support/localStack.js';

const common = {
  SMS_SENDERS: '[{"number":"+18005550100","type":"tollFree"}]',
};
const azureSettings = {
  ...common,
  OUTBOUND_QUEUE_TRANSPORT: 'servicebus',
  AzureWebJobsStorage__accountName: 'stsms',
  ServiceBusConnection__fullyQualifiedNamespace: 'sb-sms.servicebus.windows.net',
  ACS_ENDPOINT: 'https://acs-sms.communication.azure.com',
};
const localSettings = {
  ...common,
  OUTBOUND_QUEUE_TRANSPORT: 'storage',
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  ACS_CONNECTION_STRING: 'endpoint=http://127.0.0.1:7081/;accesskey=a2V5',
};

const byName = (fns: CapturedFunction[]) => Object.fromEntries(fns.map((f) => [f.name, f]));

describe('function registrations', () => {
  const azure = byName(captureInChild(azureSettings));
  const local = byName(captureInChild(localSettings));

  it('registers the named functions, in Azure and locally', () => {
    const expected = [
      'deliveryReports',
      'getMessage',
      'health',
      'inboundSms',
      'reconcileDeliveries',
      'sendSms',
      'submitMessages',
    ];
    for (const name of expected) {
      expect(Object.keys(azure)).toContain(name);
      expect(Object.keys(local)).toContain(name);
    }
    expect(Object.keys(azure).sort()).toEqual(Object.keys(local).sort());
  });

  it('HTTP functions have routes, methods and function-level keys (health is anonymous)', () => {
    expect(azure.submitMessages!.trigger).toMatchObject({
      type: 'httpTrigger',
      route: 'messages',
      methods: ['POST'],
      authLevel: 'function',
    });
    expect(azure.getMessage!.trigger).toMatchObject({
      type: 'httpTrigger',
      route: 'messages/{id}',
      methods: ['GET'],
      authLevel: 'function',
    });
    expect(azure.health!.trigger).toMatchObject({ type: 'httpTrigger', route: 'health', authLevel: 'anonymous' });
    // A short link is followed from a phone: anonymous, like health.
    expect(azure.followLink!.trigger).toMatchObject({ type: 'httpTrigger', route: 'l/{code}', authLevel: 'anonymous' });
    for (const f of Object.values(azure)) {
      if (f.trigger.type === 'httpTrigger' && !['health', 'openApi', 'followLink'].includes(f.name))
        expect(f.trigger.authLevel).toBe('function');
    }
  });

  it('sendSms is a Service Bus trigger in Azure and a Storage queue trigger locally, on the configured queue', () => {
    expect(azure.sendSms!.trigger).toMatchObject({
      type: 'serviceBusTrigger',
      queueName: '%OUTBOUND_QUEUE_NAME%',
      connection: 'ServiceBusConnection',
    });
    expect(local.sendSms!.trigger).toMatchObject({
      type: 'queueTrigger',
      queueName: '%OUTBOUND_QUEUE_NAME%',
      connection: 'AzureWebJobsStorage',
    });
  });

  it('ACS events arrive on Event Grid triggers, and the reconciler on a timer from a setting', () => {
    expect(azure.deliveryReports!.trigger.type).toBe('eventGridTrigger');
    expect(azure.inboundSms!.trigger.type).toBe('eventGridTrigger');
    expect(azure.reconcileDeliveries!.trigger).toMatchObject({ type: 'timerTrigger', schedule: '%RECONCILE_SCHEDULE%' });
  });

  it('every %SETTING% a binding refers to is a setting the code knows and the sample sets', () => {
    const sample = JSON.parse(readFileSync(path.join(root, 'local.settings.sample.json'), 'utf8')) as {
      Values: Record<string, string>;
    };
    const known = Object.keys(settingsSchema.shape);
    for (const f of Object.values(azure)) {
      for (const binding of Object.values(f.bindings)) {
        for (const value of Object.values(binding)) {
          for (const match of String(value).matchAll(/%([A-Za-z0-9_]+)%/g)) {
            expect(known).toContain(match[1]);
            expect(Object.keys(sample.Values)).toContain(match[1]);
          }
        }
      }
    }
  });

  it('a bad setting stops the app at start with a message naming it', () => {
    expect(() => captureInChild({ ...localSettings, SMS_SENDERS: 'nope' })).toThrow(/SMS_SENDERS must be JSON/);
  });
});

describe('Functions v4 conventions', () => {
  it('package.json main is the compiled entry, host.json uses the v4 extension bundle', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { main: string; type: string };
    expect(pkg.main).toBe('dist/functions/index.js');
    expect(pkg.type).toBe('module');
    const host = JSON.parse(readFileSync(path.join(root, 'host.json'), 'utf8')) as {
      version: string;
      extensionBundle: { id: string; version: string };
    };
    expect(host.version).toBe('2.0');
    expect(host.extensionBundle).toEqual({ id: 'Microsoft.Azure.Functions.ExtensionBundle', version: '[4.*, 5.0.0)' });
  });

  it('local.settings.sample.json lists every setting the code reads', () => {
    const sample = JSON.parse(readFileSync(path.join(root, 'local.settings.sample.json'), 'utf8')) as {
      Values: Record<string, string>;
    };
    const azureOnly = new Set([
      'AzureWebJobsStorage__accountName',
      'AzureWebJobsStorage__tableServiceUri',
      'AzureWebJobsStorage__queueServiceUri',
      'ServiceBusConnection',
      'ServiceBusConnection__fullyQualifiedNamespace',
      'ACS_ENDPOINT',
      'AZURE_CLIENT_ID',
      // Set by the platform in Azure (the app's name).
      'WEBSITE_SITE_NAME',
      // Application Insights, set by infra; locally telemetry goes to TELEMETRY_EXPORTER instead.
      'APPLICATIONINSIGHTS_CONNECTION_STRING',
      'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
    ]);
    for (const name of Object.keys(settingsSchema.shape)) {
      if (!azureOnly.has(name))
        expect(Object.keys(sample.Values), `${name} missing from local.settings.sample.json`).toContain(name);
    }
    expect(sample.Values.FUNCTIONS_WORKER_RUNTIME).toBe('node');
  });
});
