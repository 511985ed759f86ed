// The docs' examples, run: every shell block of README.md and docs/*.md that talks to the local
// stack is executed against one (started on free ports; localhost:7071 and :7081 in the text are
// pointed at it), in document order, and every documented answer is checked — status, content
// type, and the fields shown (test/support/docExamples.ts says how). A doc whose example stops
// working, or whose documented answer no longer matches the API, fails `npm test`.
//
// Blocks that need Azure (az, azd) or that start, build or benchmark the project itself are not
// run; they are classified below by rule, and any other block that cannot be run must be listed
// in NOT_RUN with the reason, so no example escapes silently.
//
// Each doc runs against its own stack, in the state its examples describe: a few steps (STORY)
// put it there before the example that needs it — e.g. a recipient who opted out before the
// send example shows them suppressed.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkAnswer,
  codeBlocks,
  matchLines,
  parseExpectation,
  parseShell,
  runCommand,
  scratchDir,
  type CodeBlock,
  type Expectation,
  type RunContext,
  type ShellCommand,
} from '../support/docExamples.js';
import { root, startTestStack, waitFor, type TestStack } from '../support/localStack.js';

const DOCS = [
  'README.md',
  ...readdirSync(path.join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** Blocks that cannot run here, by file and a line of their text, and why. */
const NOT_RUN: Array<{ file: string; contains: string; why: string }> = [
  {
    file: 'docs/api.md',
    contains: 'while :; do',
    why: 'a shell loop paging through the CSV export; its request is the CSV export example, which runs',
  },
  {
    file: 'docs/acs-emulator.md',
    contains: 'acs_curl()',
    why: 'a bash function signing requests with openssl; the same signature is tested through signAcsRequest in test/integration/acsEmulator.test.ts',
  },
];

/** Commands that are templates for the reader (an id to fill in), not examples to run. */
const TEMPLATES: Array<{ contains: string; why: string }> = [
  { contains: 'dead-letters -- replay <id>', why: 'needs a dead letter’s id; replay is tested by test/e2e/deadLetters.test.ts' },
  {
    contains: 'dead-letters -- discard <id>',
    why: 'needs a dead letter’s id; discard is tested by test/e2e/deadLetters.test.ts',
  },
  {
    contains: 'dead-letters -- replay --all',
    why: 'replays what another example would have left; tested by test/e2e/deadLetters.test.ts',
  },
  {
    contains: 'subscriptions/validate?code=…',
    why: 'the validation code of a manual handshake, which only the subscriber receives',
  },
  { contains: 'subscriptions?url=http%3A%2F%2F127.0.0.1%3A7071%2F…', why: 'a subscriber URL abbreviated with …' },
];

/** Why a block is not run, by rule; undefined: it runs. */
function notRunBecause(block: CodeBlock): string | undefined {
  const listed = NOT_RUN.find((n) => n.file === block.file && block.text.includes(n.contains));
  if (listed) return listed.why;
  if (/(^|\$\(|;|&&)\s*(az|azd)\s/m.test(block.text)) return 'needs an Azure subscription';
  if (/^\s*(npm (ci|start|test|run (build|bench|infra:check|test(:[\w-]+)?))|func start|npx azurite)(?=\s|$)/m.test(block.text))
    return 'sets up, builds, starts or benchmarks the project itself';
  return undefined;
}

const shellBlocks = (file: string) =>
  codeBlocks(file, readFileSync(path.join(root, file), 'utf8')).filter((b) => ['sh', 'bash', 'shell'].includes(b.lang));

/** A pool of a toll-free number and a short code: what docs/api.md and docs/inbound.md show. */
const TOLL_FREE_AND_SHORT_CODE = '[{"number":"+18005550100","type":"tollFree"},{"number":"+18005550199","type":"shortCode"}]';

interface DocSetup {
  /** Settings over the sample's, also named in the doc so a reader can reproduce its answers. */
  env?: Record<string, string>;
  /** Steps run once, before the first command whose text contains `before`. */
  story?: Array<{ before: string; run: (stack: TestStack, ctx: RunContext) => Promise<void> }>;
  /** Examples whose figures depend on the traffic: compared by shape (keys and types) only. */
  shapeOnly?: string[];
}

const optOut = (stack: TestStack, phone: string, body: Record<string, string>) =>
  stack.api(`opt-outs/${encodeURIComponent(phone)}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** A text from a handset, once the pipeline has taken it in (it is in the person's thread). */
async function text(stack: TestStack, from: string, to: string, message: string): Promise<void> {
  // The pipeline keeps ACS's id without its "Incoming_" prefix.
  const id = (await stack.emulator.injectInbound({ from, to, message })).replace(/^Incoming_/, '');
  await waitFor(
    async () => {
      const thread = (await (
        await stack.api(`conversations/${encodeURIComponent(from)}?from=${encodeURIComponent(to)}`)
      ).json()) as {
        messages: Array<{ inboundMessageId?: string }>;
      };
      return thread.messages.some((m) => m.inboundMessageId === id) || undefined;
    },
    20_000,
    `the text "${message}" to be taken in`,
  );
  await stack.emulator.idle();
}

/** A message, once it is delivered (so it is in the person's thread). */
async function send(stack: TestStack, body: Record<string, unknown>): Promise<void> {
  const response = await stack.postMessages(body);
  expect(response.status).toBe(202);
  const { messages } = (await response.json()) as { messages: Array<{ messageId: string }> };
  await waitFor(
    async () =>
      ((await (await stack.api(`messages/${messages[0]!.messageId}`)).json()) as { status: string }).status === 'delivered' ||
      undefined,
    20_000,
    `"${String(body.message)}" delivered`,
  );
}

type Story = NonNullable<DocSetup['story']>;

const SETUPS: Record<string, DocSetup> = {
  'README.md': {},
  'docs/api.md': {
    env: { SMS_SENDERS: TOLL_FREE_AND_SHORT_CODE, ACS_OPT_OUT_MIRROR: 'true' },
    story: [
      {
        // The send example shows a recipient who had opted out: suppressed, never sent.
        before: 'Idempotency-Key: 8e03978e',
        run: async (stack) => void (await optOut(stack, '+14255550124', { from: '+18005550199', reason: 'asked by e-mail' })),
      },
      {
        // The template example sends with a template: it exists (the templates section below puts
        // the same content again, which keeps its version).
        before: '"template": "appointment-reminder"',
        run: async (stack) => {
          const response = await stack.api('templates/appointment-reminder', {
            method: 'PUT',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              text: 'Hi {{name}}, your appointment is {{day}} at {{time}}.',
              locales: { de: 'Hallo {{name}}, Ihr Termin ist am {{day}} um {{time}} Uhr.' },
              description: 'Reminder the day before',
              category: 'transactional',
            }),
          });
          expect(response.status).toBe(201);
        },
      },
      {
        // The cancel example cancels a scheduled message.
        before: 'DELETE "$API/messages/01kmx3g7q4mnpqrstvwxyz-000"',
        run: async (stack, ctx) => {
          const scheduledAt = new Date(Date.now() + 86_400_000).toISOString();
          const response = await stack.postMessages({ to: '+14255550123', message: 'Reminder: tomorrow at 10:00', scheduledAt });
          const { messages } = (await response.json()) as { messages: Array<{ messageId: string }> };
          ctx.bindings.set('01kmx3g7q4mnpqrstvwxyz-000', messages[0]!.messageId);
        },
      },
      {
        // The person answers the code, then texts STOP to the short code.
        before: 'curl -sS "$API/opt-outs/+14255550123" -H',
        run: async (stack) => {
          await text(stack, '+14255550123', '+18005550199', 'Thanks!');
          await text(stack, '+14255550123', '+18005550199', 'STOP');
        },
      },
      {
        // The conversation example: a reminder, the person's answer, and ours.
        before: 'conversations/+14255550125',
        run: async (stack) => {
          const to = '+14255550125';
          const from = '+18005550199';
          await send(stack, { to, from, message: 'Can you come tomorrow at 10:00?', tag: 'reminders' });
          await text(stack, to, from, 'Yes, 10:00 works');
          await send(stack, { to, from, message: 'See you at 10:00 then.' });
        },
      },
    ] satisfies Story,
    shapeOnly: ['analytics?groupBy=tag'],
  },
  'docs/inbound.md': { env: { SMS_SENDERS: TOLL_FREE_AND_SHORT_CODE } },
  'docs/acs-emulator.md': {},
  'docs/sending.md': {},
  'docs/events.md': {},
};

for (const file of DOCS) {
  const blocks = shellBlocks(file);
  const runnable = blocks.filter((b) => notRunBecause(b) === undefined);

  describe(file, () => {
    it('has no shell example that is neither run nor set aside for a reason', () => {
      for (const block of blocks) {
        const why = notRunBecause(block);
        if (why) continue;
        expect(
          () => parseShell(block.text),
          `${file}:${block.line} cannot be run as written; fix it or list it in NOT_RUN with the reason`,
        ).not.toThrow();
      }
      if (runnable.length > 0) expect(SETUPS[file], `${file} has runnable examples: give it an entry in SETUPS`).toBeDefined();
      // A reader must be able to reproduce the answers: the doc names the settings they came from.
      const text = readFileSync(path.join(root, file), 'utf8');
      for (const [name, value] of Object.entries(SETUPS[file]?.env ?? {})) {
        expect(text, `${file} must say its examples run with ${name}`).toContain(name);
        expect(text.replace(/\\"/g, '"'), `${file} must show the value of ${name}`).toContain(value);
      }
    });

    if (runnable.length === 0) return;
    const setup = SETUPS[file] ?? {};
    let stack: TestStack;
    let ctx: RunContext;
    const storyDone = new Set<number>();

    beforeAll(async () => {
      stack = await startTestStack({ env: setup.env ?? {} });
      const host = new URL(stack.hostUrl);
      const emulator = new URL(stack.emulator.url);
      ctx = {
        vars: {},
        url: (u) =>
          u
            .replace(/\/\/(localhost|127\.0\.0\.1):7071\b/g, `//${host.host}`)
            .replace(/\/\/(localhost|127\.0\.0\.1):7081\b/g, `//${emulator.host}`)
            .replace(/127\.0\.0\.1%3A7071/g, encodeURIComponent(host.host)),
        dir: scratchDir(root, file.replace(/\W/g, '_')),
        bindings: new Map(),
        env: { ...process.env, ...stack.settings },
        root,
      };
    });

    afterAll(async () => {
      await stack?.stop();
      rmSync(path.join(root, `.tmp-docs-${process.pid}`), { recursive: true, force: true });
    });

    for (const block of runnable) {
      it(`${file}:${block.line} ${block.text
        .split('\n')
        .find((l) => l.trim() && !l.startsWith('#'))
        ?.slice(0, 70)}`, async () => {
        const commands = parseShell(block.text);
        for (const [index, command] of commands.entries()) {
          if (TEMPLATES.some((t) => command.source.includes(t.contains))) continue;
          for (const [i, step] of (setup.story ?? []).entries()) {
            if (!storyDone.has(i) && command.source.includes(step.before)) {
              storyDone.add(i);
              await step.run(stack, ctx);
            }
          }
          const answer = expectationOf(command, index === commands.length - 1 ? block : undefined);
          const shape = (setup.shapeOnly ?? []).some((s) => command.source.includes(s));
          await runAndCheck(command, answer, ctx, shape, `${file}:${block.line + command.line} ${command.source.slice(0, 120)}`);
        }
      }, 60_000);
    }
  });
}

/** The documented answer: comment lines under the command, or the json/http block right after the block. */
function expectationOf(command: ShellCommand, lastOf?: CodeBlock): Expectation | undefined {
  if (command.expected.length > 0) return parseExpectation(command.expected.join('\n'));
  const next = lastOf?.next;
  if (next && (next.lang === 'json' || next.lang === 'http')) return parseExpectation(next.text, next.lang);
  return undefined;
}

async function runAndCheck(
  command: ShellCommand,
  answer: Expectation | undefined,
  ctx: RunContext,
  shape: boolean,
  where: string,
): Promise<void> {
  let problems: string[];
  // A GET that documents an answer may have to wait for it (a message is delivered a moment
  // after it is sent); anything else runs once.
  const deadline = Date.now() + 20_000;
  for (;;) {
    const result = await runCommand(command, ctx);
    if (result.kind === 'assignment') return;
    if (result.kind === 'process') {
      problems = result.exitCode === 0 ? [] : [`exit code ${result.exitCode}: ${result.output.slice(0, 300)}`];
      if (answer?.lines) problems.push(...matchLines(answer.lines, result.output.split('\n')));
      break;
    }
    problems = checkAnswer(answer, result.response, ctx.bindings, shape);
    if (problems.length > 0) problems.push(`the answer was: ${result.response.status} ${result.response.body.slice(0, 3000)}`);
    if (problems.length === 0 || result.request.method !== 'GET' || !answer || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  expect(problems, where).toEqual([]);
}
