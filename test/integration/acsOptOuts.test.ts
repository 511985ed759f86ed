// The ACS adapter's opt-out mirror (POST /sms/optouts:add|remove, api-version 2026-01-23) against
// the emulator, through the same authentication as every other ACS call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAcsEmulator, type AcsEmulator } from '../../local/acsEmulator/server.js';
import { createAcsGateway } from '../../shared/adapters/acs/smsGateway.js';
import { GatewayError } from '../../shared/ports/gateway.js';

const SENDER = '+18005550100';
const PERSON = '+14255550123';

let emulator: AcsEmulator;

beforeAll(async () => {
  emulator = await startAcsEmulator({ port: 0, senders: [{ number: SENDER, type: 'tollFree' }] });
});

afterAll(async () => {
  await emulator.close();
});

describe('ACS opt-out list through the gateway', () => {
  const gateway = () =>
    createAcsGateway(
      { kind: 'connectionString', connectionString: emulator.connectionString, endpoint: emulator.url },
      { timeoutMs: 5000 },
    );

  it('adds and removes a recipient on the list that blocks sends', async () => {
    await gateway().setOptOut!('add', SENDER, PERSON);
    expect(emulator.optOuts()).toEqual([expect.objectContaining({ from: SENDER, to: PERSON, source: 'api' })]);
    await gateway().setOptOut!('remove', SENDER, PERSON);
    expect(emulator.optOuts()).toEqual([]);
    const calls = emulator.requests().filter((r) => r.path.startsWith('/sms/optouts'));
    expect(calls.map((r) => [r.path, r.status])).toEqual([
      ['/sms/optouts:add', 200],
      ['/sms/optouts:remove', 200],
    ]);
  });

  it('reports a refused recipient and a wrong key as GatewayError', async () => {
    await expect(gateway().setOptOut!('add', SENDER, '12')).rejects.toBeInstanceOf(GatewayError);
    const wrongKey = createAcsGateway(
      {
        kind: 'connectionString',
        connectionString: `endpoint=${emulator.url}/;accesskey=${Buffer.from('wrong key').toString('base64')}`,
        endpoint: emulator.url,
      },
      { timeoutMs: 5000 },
    );
    await expect(wrongKey.setOptOut!('add', SENDER, PERSON)).rejects.toMatchObject({ details: { status: 401 } });
  });
});
