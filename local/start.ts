// `npm start`: the whole pipeline on this machine — Azurite (data kept in .azurite/), the ACS SMS
// emulator on 7081, the function host on 7071 and, with OUTBOUND_QUEUE_TRANSPORT=servicebus in
// local.settings.json, the Service Bus stand-in — until Ctrl+C.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalStack } from './stack.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

const stack = await startLocalStack({
  root,
  hostPort: port('FUNCTIONS_HTTP_PORT', 7071),
  azurite: {
    location: path.join(root, '.azurite'),
    blobPort: port('AZURITE_BLOB_PORT', 10000),
    queuePort: port('AZURITE_QUEUE_PORT', 10001),
    tablePort: port('AZURITE_TABLE_PORT', 10002),
  },
});

console.log(`
SMS pipeline running locally
  Functions host     ${stack.hostUrl}/api   (health: ${stack.hostUrl}/api/health)
  Dashboard          ${stack.hostUrl}/api/dashboard
  ACS SMS emulator   ${stack.emulator.url}   (inbox: ${stack.emulator.url}/emulator/handsets/+14255550123/messages)
  Azurite            data in .azurite/${stack.serviceBus ? `\n  Service Bus        stand-in on amqp://127.0.0.1:${stack.serviceBus.port} (in memory)` : ''}

Try:
  curl -X POST ${stack.hostUrl}/api/messages -H 'content-type: application/json' \\
       -d '{"to":["+14255550123"],"message":"Your appointment is tomorrow at 10:00"}'

Ctrl+C stops everything.
`);

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  console.log('stopping…');
  await stack.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
