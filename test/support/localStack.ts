// Starts the whole local stack for a test file — Azurite in memory, the ACS emulator and the
// function host in its own process — on free ports, and helps tests wait for what they expect.
// TEST_OUTBOUND_QUEUE_TRANSPORT=servicebus runs every stack on the Service Bus transport (the
// stand-in) instead of the sample settings' Storage queue (`npm run test:e2e:servicebus`).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../local/stack.js';
import { slowRank, slowRankInFolder } from './slowestFirst.js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The sample settings: what a new user runs with, independent of any local.settings.json. */
export function sampleSettings(): Record<string, string> {
  const sample = JSON.parse(readFileSync(path.join(root, 'local.settings.sample.json'), 'utf8')) as {
    Values: Record<string, string>;
  };
  return { ...sample.Values };
}

/** The outbound queue transport the tests run on: the sample's, unless TEST_OUTBOUND_QUEUE_TRANSPORT says otherwise. */
export function testTransport(): Record<string, string> {
  const transport = process.env.TEST_OUTBOUND_QUEUE_TRANSPORT;
  if (!transport) return {};
  if (transport !== 'servicebus' && transport !== 'storage') {
    throw new Error(`TEST_OUTBOUND_QUEUE_TRANSPORT must be "servicebus" or "storage", got "${transport}"`);
  }
  return { OUTBOUND_QUEUE_TRANSPORT: transport };
}

export interface TestStack extends LocalStack {
  /** Log lines of every part, for assertions and for debugging a failure. */
  logs: string[];
  api(pathname: string, init?: RequestInit): Promise<Response>;
  postMessages(body: unknown, headers?: Record<string, string>): Promise<Response>;
}

/**
 * How many stack slots one run has across all its test workers (TEST_STACKS, default 3). Most
 * stacks take one slot: they spend most of their time waiting (for a delivery report, a lease, a
 * retry, a command), using a tenth of a core. A stack that pushes a thousand messages through at
 * once takes two (`slots: 2`): Azurite and the host each take most of a core then (measured with
 * STACK_PROFILE, below), and beside another such stack on a 2-core machine both starve into
 * timeouts. So a run holds three quiet stacks, or one busy and one quiet. Vitest runs more files than that at once (they mostly
 * wait), so the other workers go on with unit, integration and contract files meanwhile. Slots
 * go to the files that hold a stack longest first (test/support/slowestFirst.ts), then first come,
 * first served: the workers start several files at once, and which of them asks first is chance.
 */
const STACK_SLOTS = Number(process.env.TEST_STACKS) || 3;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The pid written in a slot or queue entry; 0 while it is being written. */
function holder(file: string): number {
  try {
    return Number(readFileSync(file, 'utf8')) || 0;
  } catch {
    return 0;
  }
}

let waiters = 0;
/**
 * When each test file first asked: its later stacks (one per describe) keep their place in the
 * queue. By file, because a worker runs several files one after another (isolate: false).
 */
const firstAsked = new Map<string, number>();

/**
 * Takes `count` of the run's stack slots (directories created atomically), in the order asked.
 * `count` 'all' runs the stack alone among the run's stacks (a test that measures time).
 */
async function takeStackSlots(count: number | 'all'): Promise<() => void> {
  const wanted = count === 'all' ? STACK_SLOTS : Math.min(count, STACK_SLOTS);
  // Workers are forked by vitest's main process: its pid names the run.
  const dir = path.join(tmpdir(), `sms-pipeline-test-stacks-${process.ppid}`);
  const queue = path.join(dir, 'queue');
  mkdirSync(queue, { recursive: true });
  // When the run first asked: the workers start their first files together, and a quick import
  // must not let a file ranked low take the slots before the longest ones have asked. So in the
  // run's first seconds a file waits a second per place it ranks below the first (at most 8) — in a
  // run of many stack files, not when one file is run alone (vitest.config.ts says which).
  const firstAskFile = path.join(dir, 'first-ask');
  try {
    writeFileSync(firstAskFile, String(Date.now()), { flag: 'wx' });
  } catch {
    // another worker asked first
  }
  const runFirstAsked = Number(readFileSync(firstAskFile, 'utf8')) || Date.now();
  const file = expect.getState().testPath ?? '';
  const eligibleAt = process.env.TEST_STACK_QUEUE_BY_RANK ? runFirstAsked + Math.min(slowRankInFolder(file), 8) * 1000 : 0;
  const asked = firstAsked.get(file) ?? Date.now();
  firstAsked.set(file, asked);
  const rank = String(slowRank(file)).padStart(3, '0');
  const ticket = path.join(queue, `${rank}-${String(asked).padStart(15, '0')}-${process.pid}-${waiters++}`);
  writeFileSync(ticket, String(process.pid));
  const held: string[] = [];
  const leave = () => rmSync(ticket, { force: true });
  process.once('exit', leave);
  try {
    for (;;) {
      // Only the first live ticket (the longest-holding file, then the longest-waiting) may take a free slot.
      const first = readdirSync(queue)
        .sort()
        .find((name) => {
          const pid = holder(path.join(queue, name));
          if (pid && !alive(pid)) {
            rmSync(path.join(queue, name), { force: true });
            return false;
          }
          return true;
        });
      if (first === path.basename(ticket) && Date.now() >= eligibleAt) {
        // The first in line takes the slots it needs as they come free, holding those it has.
        for (let i = 0; i < STACK_SLOTS && held.length < wanted; i++) {
          const slot = path.join(dir, `slot-${i}`);
          if (held.includes(slot)) continue;
          try {
            mkdirSync(slot);
          } catch {
            // Taken; reclaim it if its holder died without giving it back.
            const pid = holder(path.join(slot, 'pid'));
            if (pid && !alive(pid)) rmSync(slot, { recursive: true, force: true });
            continue;
          }
          writeFileSync(path.join(slot, 'pid'), String(process.pid));
          held.push(slot);
        }
        if (held.length === wanted) {
          const slots = [...held];
          const release = () => slots.forEach((slot) => rmSync(slot, { recursive: true, force: true }));
          process.once('exit', release);
          return () => {
            process.removeListener('exit', release);
            release();
          };
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    process.removeListener('exit', leave);
    leave();
  }
}

export interface TestStackOptions extends Partial<LocalStackOptions> {
  /**
   * How many of the run's stack slots it takes: 2 for a stack that pushes a thousand messages
   * through at once, 'all' when the test measures time (the pacing drill). Default 1.
   */
  slots?: number | 'all';
}

export async function startTestStack({ slots = 1, ...options }: TestStackOptions = {}): Promise<TestStack> {
  const logs: string[] = [];
  const release = await takeStackSlots(slots);
  const slotsTakenAt = Date.now();
  const cpuAtStart = process.cpuUsage();
  let startedInMs = 0;
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      root,
      settings: { ...sampleSettings(), ...testTransport() },
      hostPort: 0,
      emulatorPort: 0,
      azurite: {},
      log: (line) => {
        logs.push(line);
        if (process.env.STACK_LOGS) console.log(line);
      },
      ...options,
    });
  } catch (error) {
    release();
    throw error;
  }
  startedInMs = Date.now() - slotsTakenAt;
  const stop = stack.stop.bind(stack);
  const api = (pathname: string, init?: RequestInit) => fetch(`${stack.hostUrl}/api/${pathname.replace(/^\//, '')}`, init);
  return Object.assign(stack, {
    logs,
    api,
    postMessages: (body: unknown, headers: Record<string, string> = {}) =>
      api('messages', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    async stop() {
      if (process.env.STACK_PROFILE)
        recordProfile(process.env.STACK_PROFILE, startedInMs, Date.now() - slotsTakenAt, process.cpuUsage(cpuAtStart));
      try {
        await stop();
      } finally {
        release();
      }
    },
  });
}

/**
 * STACK_PROFILE=<file>: each stack appends a line when it stops — its test file, how long it took
 * to start and how long it held its slots, and the CPU its parts used meanwhile (the host and
 * Azurite, children of this worker; the worker itself: the emulator and the test). How the
 * sequencer's order and the slots (vitest.config.ts, above) were chosen. Linux only (/proc).
 */
function recordProfile(file: string, startMs: number, heldMs: number, workerCpu: NodeJS.CpuUsage): void {
  const children: Record<string, number> = {};
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      // Fields after "(comm) ": state, ppid, …; utime and stime (clock ticks) are the 12th and 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      if (Number(stat[1]) !== process.pid) continue;
      const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const part = command.includes('azurite') ? 'azuriteCpuMs' : command.includes('host/main.js') ? 'hostCpuMs' : 'otherCpuMs';
      children[part] = (children[part] ?? 0) + (Number(stat[11]) + Number(stat[12])) * 10;
    } catch {
      // exited meanwhile
    }
  }
  const line = {
    file: path.basename(expect.getState().testPath ?? ''),
    stoppedAt: new Date().toISOString(),
    startMs,
    heldMs,
    workerCpuMs: Math.round((workerCpu.user + workerCpu.system) / 1000),
    ...children,
  };
  writeFileSync(file, `${JSON.stringify(line)}\n`, { flag: 'a' });
}

/**
 * Polls `probe` until it returns a value (not undefined) or the time runs out. Waits of more than
 * 10 s ask often at first and then less (100 ms growing to 1 s): such a probe often reads a whole
 * 1,000-message batch, and asking ten times a second for a minute costs the stack more than the
 * work it waits for. Short waits, which may be timed, keep asking every 100 ms.
 */
export async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const longest = timeoutMs > 10_000 ? 1000 : 100;
  let last: unknown;
  let pause = 100;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, Math.min(pause, Math.max(0, deadline - Date.now()) + 1)));
    pause = Math.min(longest, Math.round(pause * 1.5));
  }
}
