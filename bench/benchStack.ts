// The local stack as the benchmarks run it: Azurite in memory, the ACS emulator with no rate
// limit, one sender the pipeline does not pace (so a request of 100 is one ACS request), and the
// function host in its own process. It counts what the host logs — executions per function and
// delivery reports applied — without adding a request to the system under test.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalStack, type LocalStack } from '../local/stack.js';
import { startCountingProxy, type CountingProxy } from './countingProxy.js';
import { childPids } from './processCpu.js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The one sender of the benchmarks. */
export const SENDER = '+18005550100';
/** The most the pipeline's pacing accepts (per minute): at this rate a job of 100 waits 6 ms. */
const UNPACED_RATE_PER_MINUTE = 1_000_000;

export interface BenchStackOptions {
  /** Acceptance → delivery report at the emulator. */
  deliveryReportDelayMs: number;
  /** Puts the counting proxy between the function host and Azurite. */
  countStorage?: boolean;
  /** Functions not to run (e.g. sendSms for the submit benchmark). */
  disabled?: string[];
  /** Extra emulator configuration (e.g. Event Grid delivery). */
  emulator?: Record<string, unknown>;
  /** Settings on top of the sample ones (e.g. a webhook). */
  settings?: Record<string, string>;
}

export interface BenchStack {
  stack: LocalStack;
  proxy?: CountingProxy;
  /** Successful executions per function since start (or the last resetCounters). */
  executions: Map<string, number>;
  failedExecutions: Map<string, number>;
  /** Delivery reports that moved a message to delivered/failed. */
  readonly applied: number;
  resetCounters(): void;
  waitForApplied(count: number, timeoutMs: number): Promise<void>;
  post(recipients: string[], text: string): Promise<{ status: number; batchId?: string; accepted: number }>;
  /** Personalised bulk: one request, a text of its own per recipient (personalisedTexts). */
  postPersonalised(
    recipients: string[],
    texts: readonly string[],
  ): Promise<{ status: number; batchId?: string; accepted: number }>;
  /** Process ids of the parts: the function host, Azurite, and this process (load, ACS emulator). */
  processes: { host: number | undefined; azurite: number | undefined; bench: number };
  /** Peak resident set size of the function host process so far, in MiB (Linux: VmHWM). */
  hostPeakRssMiB(): number | undefined;
  /** Last lines the stack logged, for a failure report. */
  recentLogs(): string[];
  stop(): Promise<void>;
}

/** The sample settings: what a new user runs with, whatever local.settings.json holds. */
export function sampleSettings(): Record<string, string> {
  const sample = JSON.parse(readFileSync(path.join(root, 'local.settings.sample.json'), 'utf8')) as {
    Values: Record<string, string>;
  };
  return { ...sample.Values };
}

/**
 * The texts of a personalised request: a reminder with the person's name, day and time — every one
 * different, as real personal traffic is, and all GSM-7 of one segment.
 */
export function personalisedTexts(count: number, offset = 0): string[] {
  const names = ['Ana', 'Ben', 'Chloé', 'Dev', 'Eva', 'Farid', 'Grace', 'Hugo', 'Ines', 'Jon'];
  const days = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'];
  return Array.from({ length: count }, (_, i) => {
    const n = offset + i;
    const minutes = 8 * 60 + (n % 600);
    const at = `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
    return `Hi ${names[n % names.length]}, your appointment #${n} is ${days[n % days.length]} at ${at}. Reply C to cancel.`;
  });
}

/**
 * `count` distinct valid North American numbers, starting at `offset`. Consecutive numbers fall in
 * different exchanges (+1425 200…999): sequential numbers of one block, one request each, are what
 * SMS pumping looks like, and the pumping watch (docs/security.md) would hold them.
 */
export function recipients(count: number, offset = 0): string[] {
  return Array.from({ length: count }, (_, i) => {
    const n = (offset + i) % 8_000_000;
    return `+1425${200 + (n % 800)}${String(Math.floor(n / 800)).padStart(4, '0')}`;
  });
}

export async function startBenchStack(options: BenchStackOptions): Promise<BenchStack> {
  const executions = new Map<string, number>();
  const failedExecutions = new Map<string, number>();
  let applied = 0;
  const recent: string[] = [];
  const executed = /^\[functions\] Executed '([^']+)' \((Succeeded|Failed)/;
  const log = (line: string) => {
    recent.push(line);
    if (recent.length > 200) recent.shift();
    const m = executed.exec(line);
    if (m) {
      const counter = m[2] === 'Succeeded' ? executions : failedExecutions;
      counter.set(m[1]!, (counter.get(m[1]!) ?? 0) + 1);
    } else if (line.includes('deliveryReports [information] delivery report applied')) {
      applied++;
    }
  };

  let proxy: CountingProxy | undefined;
  const disabled = Object.fromEntries((options.disabled ?? []).map((name) => [`AzureWebJobs__${name}__Disabled`, 'true']));
  const stack = await startLocalStack({
    root,
    settings: {
      ...sampleSettings(),
      SMS_SENDERS: JSON.stringify([{ number: SENDER, type: 'tollFree', ratePerMinute: UNPACED_RATE_PER_MINUTE }]),
      // The reconciler's cost is measured on its own (roundTrips.ts), not mixed into a run.
      AzureWebJobs__reconcileDeliveries__Disabled: 'true',
      ...(options.settings ?? {}),
      ...disabled,
    },
    hostPort: 0,
    emulatorPort: 0,
    azurite: {},
    log,
    emulator: {
      senders: [{ number: SENDER, type: 'tollFree', ratePerMinute: 1e9, burst: 1e9 }],
      deliveryReports: { delayMs: options.deliveryReportDelayMs },
      ...(options.emulator ?? {}),
    },
    ...(options.countStorage
      ? {
          hostStorage: async (connectionString: string) => {
            proxy = await startCountingProxy(connectionString);
            return proxy.connectionString;
          },
        }
      : {}),
  });

  const postBody = async (payload: Record<string, unknown>) => {
    const response = await fetch(`${stack.hostUrl}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
    });
    const body = (await response.json().catch(() => ({}))) as { batchId?: string; messages?: unknown[] };
    return {
      status: response.status,
      ...(body.batchId ? { batchId: body.batchId } : {}),
      accepted: body.messages?.length ?? 0,
    };
  };

  const pid = stack.host.process.pid;
  return {
    stack,
    processes: { host: pid, azurite: childPids('azurite')[0], bench: process.pid },
    ...(proxy ? { proxy } : {}),
    executions,
    failedExecutions,
    get applied() {
      return applied;
    },
    resetCounters() {
      executions.clear();
      failedExecutions.clear();
      applied = 0;
      proxy?.reset();
    },
    async waitForApplied(count, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (applied < count) {
        if (Date.now() > deadline) {
          throw new Error(
            `only ${applied} of ${count} delivery reports recorded after ${timeoutMs} ms\n${recent.slice(-20).join('\n')}`,
          );
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    post(to, text) {
      return postBody({ to, message: text, from: SENDER });
    },
    postPersonalised(to, texts) {
      return postBody({
        messages: to.map((t, i) => ({ to: t, text: texts[i]!, reference: `bench-${t.slice(1)}` })),
        from: SENDER,
      });
    },
    hostPeakRssMiB() {
      if (pid === undefined) return undefined;
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
        return kb ? Math.round(Number(kb) / 1024) : undefined;
      } catch {
        return undefined;
      }
    },
    recentLogs: () => [...recent],
    async stop() {
      await stack.stop();
      await proxy?.close();
    },
  };
}

/** Runs `work(i)` for i in [0, total) with `concurrency` at a time. */
export async function runPool(total: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      while (next < total) await work(next++);
    }),
  );
}

/** Percentile (nearest rank) of a sorted array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** True when this module is the script node was started with. */
export function isMain(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(moduleUrl);
}
