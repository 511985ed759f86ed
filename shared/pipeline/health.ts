// Health: whether storage, the outbound queue and the ACS endpoint answer, each named, and whether
// sending is paused or held anywhere (the pause switch, fraud holds: a paused pipeline is healthy but
// sends nothing, and a monitor should say so). Results are kept for a few seconds, so a monitor
// polling the anonymous route costs no more than one check per interval, however often it asks
// (each check is a storage read or a signed ACS request).
import type { Clock } from '../ports/runtime.js';

export type HealthCheck = () => Promise<void>;

export interface HealthReport {
  status: 'healthy' | 'unhealthy';
  checks: Record<string, { ok: boolean; ms: number; error?: string }>;
  /** When the checks ran. */
  checkedAt: string;
  /** Whether hand-overs run: "paused" (the whole pool), "partlyPaused" (a sender or tag), "active"; absent when unknown. */
  sending?: SendingHealth;
}

export interface SendingHealth {
  state: 'active' | 'partlyPaused' | 'paused';
  pauses: number;
  activeHolds: number;
}

/** How long a report is answered from memory. */
export const HEALTH_CACHE_MS = 5_000;

/** Runs the checks in parallel, each bounded by `timeoutMs`. */
export async function checkHealth(
  checks: Record<string, HealthCheck>,
  clock: Clock,
  timeoutMs = 5000,
  sending?: () => Promise<SendingHealth>,
): Promise<HealthReport> {
  const checkedAt = clock.now().toISOString();
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      const started = Date.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          check(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        return [name, { ok: true, ms: Date.now() - started }] as const;
      } catch (error) {
        return [name, { ok: false, ms: Date.now() - started, error: (error as Error).message ?? String(error) }] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  // The state of sending comes from storage too: when storage does not answer, it is left out.
  const state = await sending?.().catch(() => undefined);
  return {
    status: entries.every(([, c]) => c.ok) ? 'healthy' : 'unhealthy',
    checks: Object.fromEntries(entries),
    checkedAt,
    ...(state ? { sending: state } : {}),
  };
}

/** checkHealth, answered from memory for HEALTH_CACHE_MS; concurrent callers share one run. */
export function cachedHealth(
  checks: () => Record<string, HealthCheck>,
  clock: Clock,
  ttlMs = HEALTH_CACHE_MS,
  sending?: () => Promise<SendingHealth>,
): () => Promise<HealthReport> {
  let last: { at: number; report: Promise<HealthReport> } | undefined;
  return () => {
    const now = clock.now().getTime();
    if (!last || now - last.at >= ttlMs) last = { at: now, report: checkHealth(checks(), clock, 5000, sending) };
    return last.report;
  };
}

/** The state of sending from the pauses and holds in force. */
export function sendingHealth(snapshot: {
  pauses: ReadonlyArray<{ scope: { kind: string } }>;
  holds: ReadonlyArray<{ state: string }>;
}): SendingHealth {
  const pool = snapshot.pauses.some((p) => p.scope.kind === 'pool');
  return {
    state: pool ? 'paused' : snapshot.pauses.length > 0 ? 'partlyPaused' : 'active',
    pauses: snapshot.pauses.length,
    activeHolds: snapshot.holds.filter((h) => h.state === 'active').length,
  };
}
