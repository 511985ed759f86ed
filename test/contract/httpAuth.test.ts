// What the Functions host would index about who may call: every HTTP function the app registers
// needs a permission (shared/domain/access.ts) unless it is one of the anonymous ones, and the
// host asks for a function key in keys and both modes, and for none with tokens alone.
import { describe, expect, it } from 'vitest';
import { accessOf } from '../../shared/domain/access.js';
import { captureInChild } from '../support/captureRegistrations.js';

const local = {
  SMS_SENDERS: '[{"number":"+18005550100","type":"tollFree"}]',
  OUTBOUND_QUEUE_TRANSPORT: 'storage',
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  ACS_CONNECTION_STRING: 'endpoint=http://127.0.0.1:7081/;accesskey=a2V5',
};
const entra = {
  AUTH_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  AUTH_AUDIENCE: 'api://sms-pipeline',
};
const httpOf = (env: Record<string, string>) => captureInChild(env).filter((f) => f.trigger.type === 'httpTrigger');

describe('HTTP functions and who may call them', () => {
  const keys = httpOf(local);
  const tokens = httpOf({ ...local, ...entra, AUTH_MODE: 'entra' });
  const both = httpOf({ ...local, ...entra, AUTH_MODE: 'both' });

  it('every keyed function has a permission; the others are the anonymous ones', () => {
    expect(keys.length).toBeGreaterThan(20);
    for (const f of keys) {
      const access = accessOf(f.name);
      if (f.trigger.authLevel === 'anonymous') expect(access, f.name).toEqual({ kind: 'anonymous' });
      else expect(access.kind, `${f.name} needs a permission in shared/domain/access.ts`).toBe('permission');
    }
  });

  it('keys and both: the host asks for a function key; entra: for none (the token is checked by the app)', () => {
    const level = (fns: typeof keys) => Object.fromEntries(fns.map((f) => [f.name, f.trigger.authLevel]));
    expect(level(both)).toEqual(level(keys));
    for (const f of tokens) expect(f.trigger.authLevel, f.name).toBe('anonymous');
    expect(level(keys).eraseSubject).toBe('function');
  });
});
