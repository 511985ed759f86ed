// `npm run dead-letters [-- list | replay <id>… | replay --all | discard <id>…]`: inspects and
// replays dead-lettered send jobs of the environment the settings point at — both the sender's
// (the deadLetters table) and the queue transport's (the poison queue, or Service Bus's
// dead-letter sub-queue). Settings come from the environment when it has SMS_SENDERS, otherwise
// from local.settings.json (or the sample) with the environment on top. In Azure, run it with the
// app's settings and an identity that may read the tables and both queues and write the queue.
// Locally, "UseDevelopmentStorage=true" means Azurite on the ports `npm start` used
// (local/localSettings.ts), and storage that cannot be reached is said in one line, not a stack.
import path from 'node:path';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { loadConfig } from '../shared/config.js';
import { buildServices } from '../shared/composition.js';
import { discardDeadLetter, listDeadLetters, replayDeadLetter } from '../shared/pipeline/deadLetters.js';
import { localStorageConnectionString, readLocalSettings, resolveLocalPorts } from './localSettings.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function settings(): Record<string, string | undefined> {
  let values: Record<string, string | undefined> = process.env;
  if (
    !process.env.SMS_SENDERS &&
    (existsSync(path.join(root, 'local.settings.json')) || existsSync(path.join(root, 'local.settings.sample.json')))
  ) {
    values = { ...readLocalSettings(root), ...process.env };
  }
  const storage = localStorageConnectionString(values.AzureWebJobsStorage, resolveLocalPorts(root));
  return storage === values.AzureWebJobsStorage ? values : { ...values, AzureWebJobsStorage: storage };
}

/** The loopback endpoints (Azurite's) of a storage connection string that do not answer. */
async function unreachableLocalEndpoints(connectionString: string | undefined): Promise<string[]> {
  const endpoints = [...(connectionString ?? '').matchAll(/(Table|Queue)Endpoint=https?:\/\/(127\.0\.0\.1|localhost):(\d+)/gi)];
  const down: string[] = [];
  for (const [, kind, host, port] of endpoints) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(Number(port), host!);
      const done = (answered: boolean) => {
        socket.destroy();
        resolve(answered);
      };
      socket.setTimeout(2000);
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
      socket.once('timeout', () => done(false));
    });
    if (!open) down.push(`${host}:${port} (${kind!.toLowerCase()})`);
  }
  return down;
}

const usage = `usage: npm run dead-letters -- [list | replay <id>... | replay --all | discard <id>...]`;

async function main(): Promise<number> {
  const [command = 'list', ...args] = process.argv.slice(2);
  if (!['list', 'replay', 'discard'].includes(command)) {
    console.error(usage);
    return 2;
  }
  const config = settings();
  const down = await unreachableLocalEndpoints(config.AzureWebJobsStorage);
  if (down.length > 0) {
    console.error(
      `npm run dead-letters: storage does not answer at ${down.join(', ')}.\n` +
        `  Is \`npm start\` running? This command uses the ports it uses: AZURITE_TABLE_PORT and AZURITE_QUEUE_PORT ` +
        `(environment or local.settings.json), else 10002 and 10001.`,
    );
    return 1;
  }
  const services = buildServices(loadConfig(config));
  const letters = await listDeadLetters(services, 1000);

  if (command === 'list') {
    if (letters.length === 0) {
      console.log('no dead letters');
      return 0;
    }
    for (const l of letters) {
      console.log(`${l.id}  ${l.at}  job ${l.jobId ?? '-'}  batch ${l.batchId ?? '-'}  in ${l.source ?? 'deadLetters table'}`);
      console.log(`    reason: ${l.reason}`);
    }
    console.log(`\n${letters.length} dead letter(s). Replay with: npm run dead-letters -- replay <id>`);
    return 0;
  }

  const chosen = args.includes('--all') ? letters : letters.filter((l) => args.includes(l.id));
  const unknown = args.filter((a) => a !== '--all' && !letters.some((l) => l.id === a));
  if (unknown.length > 0) console.error(`not found: ${unknown.join(', ')}`);
  if (chosen.length === 0) {
    console.error(usage);
    return 2;
  }
  for (const letter of chosen) {
    if (command === 'discard') {
      await discardDeadLetter(services, letter);
      console.log(`${letter.id}: discarded`);
      continue;
    }
    const result = await replayDeadLetter(services, letter);
    console.log(
      `${letter.id}: ${result.outcome}, re-queued ${result.requeued.length}${result.detail ? ` — ${result.detail}` : ''}`,
    );
    for (const id of result.requeued) console.log(`    re-queued ${id}`);
    for (const k of result.kept) console.log(`    kept ${k.messageId}: ${k.reason}`);
  }
  return unknown.length > 0 ? 1 : 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  // An operator's tool: the reason in one line (a bad setting, storage refusing), not a stack trace.
  const e = error as Error & { code?: string; statusCode?: number };
  console.error(`npm run dead-letters: ${e.message ?? String(error)}${e.code ? ` (${e.code})` : ''}`);
  process.exitCode = 1;
}
// The Service Bus transport's clients keep their AMQP connection open, so the process would not end
// by itself: end it once what was printed has been written.
process.stdout.write('', () => process.exit());
