// Health: whether storage, the outbound queue and the ACS endpoint answer, each named.

export type HealthCheck = () => Promise<void>;

export interface HealthReport {
  status: 'healthy' | 'unhealthy';
  checks: Record<string, { ok: boolean; ms: number; error?: string }>;
}

/** Runs the checks in parallel, each bounded by `timeoutMs`. */
export async function checkHealth(checks: Record<string, HealthCheck>, timeoutMs = 5000): Promise<HealthReport> {
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
  const result = Object.fromEntries(entries);
  return { status: entries.every(([, c]) => c.ok) ? 'healthy' : 'unhealthy', checks: result };
}
