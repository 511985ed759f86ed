import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../shared/config.js';

const local = {
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  OUTBOUND_QUEUE_TRANSPORT: 'storage',
  ACS_CONNECTION_STRING: 'endpoint=http://127.0.0.1:7081/;accesskey=a2V5',
  SMS_SENDERS: '[{"number":"+18005550100","type":"tollFree"},{"number":"+18005550199","type":"shortCode","ratePerMinute":120}]',
};

const azure = {
  AzureWebJobsStorage__accountName: 'stsms',
  ServiceBusConnection__fullyQualifiedNamespace: 'sb-sms.servicebus.windows.net',
  ACS_ENDPOINT: 'https://acs-sms.communication.azure.com',
  AZURE_CLIENT_ID: '00000000-0000-0000-0000-000000000001',
  SMS_SENDERS: '[{"number":"+18005550100","type":"tollFree"}]',
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('reads the local settings with their defaults', () => {
    const config = loadConfig(local);
    expect(config.storage).toEqual({ kind: 'connectionString', connectionString: 'UseDevelopmentStorage=true' });
    expect(config.outboundQueue).toEqual({ transport: 'storage', name: 'sms-outbound' });
    expect(config.acs).toMatchObject({ kind: 'connectionString', endpoint: 'http://127.0.0.1:7081/' });
    expect(config.senders).toEqual([
      { number: '+18005550100', type: 'tollFree', ratePerMinute: 200, burst: 3 },
      { number: '+18005550199', type: 'shortCode', ratePerMinute: 120, burst: 2 },
    ]);
    expect(config.maxSegments).toBe(10);
    expect(config.sendMaxAttempts).toBe(8);
  });

  it('reads identity-based settings for Azure, with Service Bus as the default transport', () => {
    const config = loadConfig(azure);
    expect(config.storage).toEqual({
      kind: 'identity',
      tableUrl: 'https://stsms.table.core.windows.net',
      queueUrl: 'https://stsms.queue.core.windows.net',
      clientId: azure.AZURE_CLIENT_ID,
    });
    expect(config.outboundQueue.transport).toBe('servicebus');
    expect(config.outboundQueue.serviceBus).toMatchObject({ kind: 'identity', fullyQualifiedNamespace: 'sb-sms.servicebus.windows.net' });
    expect(config.acs).toMatchObject({ kind: 'identity', endpoint: 'https://acs-sms.communication.azure.com' });
  });

  it('names a missing setting and says what is expected', () => {
    const { SMS_SENDERS: _omit, ...rest } = local;
    expect(problemsOf(rest)).toEqual(['SMS_SENDERS is required']);
    const { ACS_CONNECTION_STRING: _acs, ...noAcs } = local;
    expect(problemsOf(noAcs).join('\n')).toMatch(/^ACS_ENDPOINT is required/);
    const { ServiceBusConnection__fullyQualifiedNamespace: _sb, ...noSb } = azure;
    expect(problemsOf(noSb).join('\n')).toMatch(/ServiceBusConnection__fullyQualifiedNamespace is required/);
  });

  it('names each malformed setting', () => {
    const problems = problemsOf({
      ...local,
      OUTBOUND_QUEUE_TRANSPORT: 'kafka',
      SMS_MAX_SEGMENTS: 'ten',
      SMS_SENDERS: '[{"number":"12345","type":"tollFree"}]',
    });
    expect(problems.some((p) => p.startsWith('OUTBOUND_QUEUE_TRANSPORT must be "servicebus" or "storage"'))).toBe(true);
    expect(problems.some((p) => p.startsWith('SMS_MAX_SEGMENTS must be a whole number from 1 to 20'))).toBe(true);
    expect(problems.some((p) => p.startsWith('SMS_SENDERS [0.number] must be an E.164 number'))).toBe(true);
  });

  it('refuses senders that are not JSON, duplicated, or of an unknown type', () => {
    expect(problemsOf({ ...local, SMS_SENDERS: '+18005550100' })[0]).toMatch(/^SMS_SENDERS must be JSON, for example/);
    expect(problemsOf({ ...local, SMS_SENDERS: '[{"number":"+18005550100","type":"tollFree"},{"number":"+18005550100","type":"tollFree"}]' })).toEqual([
      'SMS_SENDERS lists +18005550100 twice',
    ]);
    expect(problemsOf({ ...local, SMS_SENDERS: '[{"number":"+18005550100","type":"landline"}]' })[0]).toMatch(/^SMS_SENDERS \[0.type\]/);
  });

  it('requires a signing secret when webhooks are configured', () => {
    expect(problemsOf({ ...local, STATUS_WEBHOOK_URLS: 'https://app.example.com/sms-events' })).toEqual([
      'STATUS_WEBHOOK_SECRET is required when STATUS_WEBHOOK_URLS is set, so receivers can verify deliveries',
    ]);
    expect(problemsOf({ ...local, STATUS_WEBHOOK_URLS: 'not a url', STATUS_WEBHOOK_SECRET: 'x'.repeat(16) })[0]).toBe(
      'STATUS_WEBHOOK_URLS "not a url" is not an absolute URL',
    );
  });

  it('treats empty settings as unset', () => {
    expect(loadConfig({ ...local, STATUS_WEBHOOK_URLS: '', SMS_MAX_SEGMENTS: '' }).maxSegments).toBe(10);
  });
});
