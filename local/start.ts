// `npm start`: the whole pipeline on this machine — Azurite (data kept in .azurite/), the ACS SMS
// emulator and the function host, on the ports local/localSettings.ts resolves, and, with
// OUTBOUND_QUEUE_TRANSPORT=servicebus in local.settings.json, the Service Bus stand-in — until Ctrl+C.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalStack, type LocalStack } from './stack.js';
import {
  PORT_SETTINGS,
  PortInUseError,
  PortSettingError,
  portHint,
  resolveLocalPorts,
  type LocalPortName,
} from './localSettings.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let stack: LocalStack;
let ports: ReturnType<typeof resolveLocalPorts> | undefined;
try {
  ports = resolveLocalPorts(root);
  stack = await startLocalStack({
    root,
    hostPort: ports.functions,
    emulatorPort: ports.acsEmulator,
    azurite: { location: path.join(root, '.azurite'), blobPort: ports.blob, queuePort: ports.queue, tablePort: ports.table },
    tokenIssuerFile: path.join(root, '.local-issuer.json'),
  });
} catch (error) {
  if (error instanceof PortInUseError && ports) {
    const name = (Object.keys(PORT_SETTINGS) as LocalPortName[]).find((n) => ports![n] === error.port);
    console.error(
      `npm start: ${error.message}.\n  Stop what uses it (e.g. an earlier npm start), or ${name ? portHint(name) : 'choose another port'}.`,
    );
  } else if (error instanceof PortSettingError) {
    console.error(`npm start: ${error.message}`);
  } else {
    console.error(`npm start: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.exit(1);
}

console.log(`
SMS pipeline running locally
  Functions host     ${stack.hostUrl}/api   (health: ${stack.hostUrl}/api/health)
  Dashboard          ${stack.hostUrl}/api/dashboard
  ACS SMS emulator   ${stack.emulator.url}   (inbox: ${stack.emulator.url}/emulator/handsets/+14255550123/messages)
${stack.tokens ? `  Token issuer       ${stack.tokens.jwksUrl}   (a token: npm run token -- --app booking --roles Messages.Send)\n` : ''}  Azurite            blob ${ports!.blob}, queue ${ports!.queue}, table ${ports!.table}; data in .azurite/${stack.serviceBus ? `\n  Service Bus        stand-in on amqp://127.0.0.1:${stack.serviceBus.port} (in memory)` : ''}

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
