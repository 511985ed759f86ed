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
    expect(config.outboundQueue.serviceBus).toMatchObject({
      kind: 'identity',
      fullyQualifiedNamespace: 'sb-sms.servicebus.windows.net',
    });
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
    expect(
      problemsOf({
        ...local,
        SMS_SENDERS: '[{"number":"+18005550100","type":"tollFree"},{"number":"+18005550100","type":"tollFree"}]',
      }),
    ).toEqual(['SMS_SENDERS lists +18005550100 twice']);
    expect(problemsOf({ ...local, SMS_SENDERS: '[{"number":"+18005550100","type":"landline"}]' })[0]).toMatch(
      /^SMS_SENDERS \[0.type\]/,
    );
  });

  it('requires a signing secret when webhooks are configured', () => {
    expect(problemsOf({ ...local, STATUS_WEBHOOK_URLS: 'https://app.example.com/sms-events' })).toEqual([
      'STATUS_WEBHOOK_SECRET is required when STATUS_WEBHOOK_URLS is set, so receivers can verify deliveries',
    ]);
    expect(problemsOf({ ...local, STATUS_WEBHOOK_URLS: 'not a url', STATUS_WEBHOOK_SECRET: 'x'.repeat(16) })[0]).toBe(
      'STATUS_WEBHOOK_URLS "not a url" is not an absolute URL',
    );
  });

  it('accepts a whsec_ secret, a raw one of 24 bytes or more, or two while rotating; refuses weaker ones', () => {
    const whsec = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const raw = 'r'.repeat(24);
    const urls = 'https://app.example.com/sms-events';
    for (const secret of [whsec, raw, `${whsec} ${raw}`]) {
      expect(loadConfig({ ...local, STATUS_WEBHOOK_URLS: urls, STATUS_WEBHOOK_SECRET: secret }).webhooks).toEqual({
        urls: [urls],
        secret,
      });
    }
    expect(problemsOf({ ...local, STATUS_WEBHOOK_URLS: urls, STATUS_WEBHOOK_SECRET: 'x'.repeat(16) })[0]).toMatch(
      /^STATUS_WEBHOOK_SECRET must be whsec_<base64 of 24-64 random bytes>/,
    );
    expect(
      problemsOf({
        ...local,
        STATUS_WEBHOOK_URLS: urls,
        STATUS_WEBHOOK_SECRET: `whsec_${Buffer.alloc(8).toString('base64')}`,
      })[0],
    ).toMatch(/^STATUS_WEBHOOK_SECRET a whsec_ secret must encode 24 to 64 bytes/);
  });

  it('sends webhooks over https only, except to this machine', () => {
    const secret = 's'.repeat(32);
    expect(
      problemsOf({ ...local, STATUS_WEBHOOK_URLS: 'http://app.example.com/hooks?token=t0ken', STATUS_WEBHOOK_SECRET: secret }),
    ).toEqual([
      'STATUS_WEBHOOK_URLS "http://app.example.com" must use https (plain http is allowed only for localhost / 127.0.0.1)',
    ]);
    expect(
      loadConfig({
        ...local,
        STATUS_WEBHOOK_URLS: 'http://127.0.0.1:9000/a, http://localhost:9001/b',
        STATUS_WEBHOOK_SECRET: secret,
      }).webhooks.urls,
    ).toEqual(['http://127.0.0.1:9000/a', 'http://localhost:9001/b']);
    expect(
      problemsOf({
        ...local,
        STATUS_WEBHOOK_URLS: 'https://a.example.com/x,https://a.example.com/x',
        STATUS_WEBHOOK_SECRET: secret,
      })[0],
    ).toMatch(/^STATUS_WEBHOOK_URLS lists https:\/\/a\.example\.com… twice/);
    expect(problemsOf({ ...local, EVENTGRID_TOPIC_ENDPOINT: 'http://evgt.westus2-1.eventgrid.azure.net/api/events' })[0]).toMatch(
      /^EVENTGRID_TOPIC_ENDPOINT .* must use https/,
    );
  });

  it('reads the event types webhooks receive, with prefixes', () => {
    const base = { ...local, STATUS_WEBHOOK_URLS: 'https://app.example.com/e', STATUS_WEBHOOK_SECRET: 's'.repeat(32) };
    expect(
      loadConfig({ ...base, STATUS_WEBHOOK_EVENT_TYPES: 'sms.message.delivered, sms.message.failed' }).webhooks.eventTypes,
    ).toEqual(['sms.message.delivered', 'sms.message.failed']);
    expect(loadConfig({ ...base, STATUS_WEBHOOK_EVENT_TYPES: 'sms.optout.*' }).webhooks.eventTypes).toEqual([
      'sms.optout.added',
      'sms.optout.removed',
    ]);
    expect(loadConfig(base).webhooks.eventTypes).toBeUndefined();
    expect(problemsOf({ ...base, STATUS_WEBHOOK_EVENT_TYPES: 'sms.message.deliverd' })[0]).toMatch(
      /^STATUS_WEBHOOK_EVENT_TYPES "sms.message.deliverd" names no event type/,
    );
  });

  it('reads the first retry delay of event deliveries (10 s unless set)', () => {
    expect(loadConfig(local).events.retryBaseMs).toBe(10_000);
    expect(loadConfig({ ...local, EVENTS_RETRY_BASE_SECONDS: '1' }).events.retryBaseMs).toBe(1000);
    expect(problemsOf({ ...local, EVENTS_RETRY_BASE_SECONDS: '0' })[0]).toMatch(
      /^EVENTS_RETRY_BASE_SECONDS must be a whole number from 1 to 3600/,
    );
  });

  it('publishes to Event Grid with the identity in Azure, with the key elsewhere', () => {
    const endpoint = 'https://evgt-status.westus2-1.eventgrid.azure.net/api/events';
    expect(loadConfig({ ...azure, EVENTGRID_TOPIC_ENDPOINT: endpoint }).eventGrid).toEqual({
      endpoint,
      clientId: azure.AZURE_CLIENT_ID,
    });
    expect(loadConfig({ ...local, EVENTGRID_TOPIC_ENDPOINT: endpoint, EVENTGRID_TOPIC_KEY: 'k' }).eventGrid).toEqual({
      endpoint,
      key: 'k',
    });
  });

  it('treats empty settings as unset', () => {
    expect(loadConfig({ ...local, STATUS_WEBHOOK_URLS: '', SMS_MAX_SEGMENTS: '' }).maxSegments).toBe(10);
  });
});
