import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
export async function startAzurite(_o: { silent?: boolean } = {}) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const dir = mkdtempSync(path.join(tmpdir(), 'az-'));
  const child = spawn(path.resolve('node_modules/.bin/azurite-table'), ['--tablePort', String(port), '--inMemoryPersistence', '--skipApiVersionCheck', '--disableTelemetry'], { stdio: 'pipe' });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => { if (String(d).includes('successfully started')) resolve(); });
    child.on('exit', (c) => reject(new Error('exit ' + c)));
  });
  const key = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
  return {
    connectionString: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${key};TableEndpoint=http://127.0.0.1:${port}/devstoreaccount1;`,
    stop: async () => { child.kill(); },
  };
}
