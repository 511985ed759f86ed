// Where each part of the local stack listens (local/localSettings.ts): the environment, then
// local.settings.json (Host.LocalHttpPort for the host, as func start reads it), then the defaults.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { azuriteConnectionString, localStorageConnectionString, resolveLocalPorts } from '../../local/localSettings.js';

const roots: string[] = [];
function rootWith(
  file?: { Values?: Record<string, string>; Host?: Record<string, unknown> },
  name = 'local.settings.json',
): string {
  const root = mkdtempSync(path.join(tmpdir(), 'local-settings-'));
  roots.push(root);
  if (file) writeFileSync(path.join(root, name), JSON.stringify(file));
  return root;
}
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('resolveLocalPorts', () => {
  it('gives the documented defaults', () => {
    expect(resolveLocalPorts(rootWith(), {})).toEqual({
      functions: 7071,
      acsEmulator: 7081,
      blob: 10000,
      queue: 10001,
      table: 10002,
    });
  });

  it('reads Host.LocalHttpPort and the Values of local.settings.json, else the sample', () => {
    const values = {
      ACS_EMULATOR_PORT: '7181',
      AZURITE_BLOB_PORT: '20000',
      AZURITE_QUEUE_PORT: '20001',
      AZURITE_TABLE_PORT: '20002',
    };
    expect(resolveLocalPorts(rootWith({ Values: values, Host: { LocalHttpPort: 7171 } }), {})).toEqual({
      functions: 7171,
      acsEmulator: 7181,
      blob: 20000,
      queue: 20001,
      table: 20002,
    });
    expect(resolveLocalPorts(rootWith({ Host: { LocalHttpPort: 7272 } }, 'local.settings.sample.json'), {}).functions).toBe(7272);
  });

  it('lets the environment win over the file', () => {
    const root = rootWith({ Values: { ACS_EMULATOR_PORT: '7181' }, Host: { LocalHttpPort: 7171 } });
    expect(resolveLocalPorts(root, { FUNCTIONS_HTTP_PORT: '7371', ACS_EMULATOR_PORT: '7381' })).toMatchObject({
      functions: 7371,
      acsEmulator: 7381,
    });
  });

  it('puts the emulator where ACS_CONNECTION_STRING expects it when no port is set', () => {
    const root = rootWith({ Values: { ACS_CONNECTION_STRING: 'endpoint=http://127.0.0.1:7481/;accesskey=abc' } });
    expect(resolveLocalPorts(root, {}).acsEmulator).toBe(7481);
  });

  it('refuses a value that is not a port, naming the setting', () => {
    expect(() => resolveLocalPorts(rootWith(), { AZURITE_TABLE_PORT: 'ten' })).toThrow(
      /AZURITE_TABLE_PORT must be a port number/,
    );
    expect(() => resolveLocalPorts(rootWith({ Host: { LocalHttpPort: 70000 } }), {})).toThrow(
      /Host.LocalHttpPort in local.settings.json/,
    );
  });
});

describe('localStorageConnectionString', () => {
  it('reads UseDevelopmentStorage=true as Azurite on the resolved ports, and leaves anything else alone', () => {
    const ports = resolveLocalPorts(rootWith({ Values: { AZURITE_TABLE_PORT: '20002' } }), {});
    expect(localStorageConnectionString('UseDevelopmentStorage=true', ports)).toBe(azuriteConnectionString(ports));
    expect(localStorageConnectionString('UseDevelopmentStorage=true', ports)).toContain(
      'TableEndpoint=http://127.0.0.1:20002/devstoreaccount1',
    );
    expect(localStorageConnectionString('DefaultEndpointsProtocol=https;AccountName=x', ports)).toBe(
      'DefaultEndpointsProtocol=https;AccountName=x',
    );
  });
});
