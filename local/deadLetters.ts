// `npm run dead-letters [-- list | replay <id>… | replay --all | discard <id>…]`: inspects and
// replays dead-lettered send jobs of the environment the settings point at — both the sender's
// (the deadLetters table) and the queue transport's (the poison queue, or Service Bus's
// dead-letter sub-queue). Settings come from the environment when it has SMS_SENDERS, otherwise
// from local.settings.json (or the sample) with the environment on top. In Azure, run it with the
// app's settings and an identity that may read the tables and both queues and write the queue.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { loadConfig } from '../shared/config.js';
import { buildServices } from '../shared/composition.js';
import { discardDeadLetter, listDeadLetters, replayDeadLetter } from '../shared/pipeline/deadLetters.js';
import { readLocalSettings } from './stack.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function settings(): Record<string, string | undefined> {
  if (process.env.SMS_SENDERS) return process.env;
  if (existsSync(path.join(root, 'local.settings.json')) || existsSync(path.join(root, 'local.settings.sample.json'))) {
    return { ...readLocalSettings(root), ...process.env };
  }
  return process.env;
}

const usage = `usage: npm run dead-letters -- [list | replay <id>... | replay --all | discard <id>...]`;

async function main(): Promise<number> {
  const [command = 'list', ...args] = process.argv.slice(2);
  if (!['list', 'replay', 'discard'].includes(command)) {
    console.error(usage);
    return 2;
  }
  const services = buildServices(loadConfig(settings()));
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

process.exitCode = await main();
// The Service Bus transport's clients keep their AMQP connection open, so the process would not end
// by itself: end it once what was printed has been written.
process.stdout.write('', () => process.exit());
