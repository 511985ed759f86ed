// The timer trigger: NCRONTAB schedules (six fields, seconds first) and runOnStartup.
import type { RegisteredFunction } from './functionsCore.js';
import { context, invoke, resolveSettings, type Log } from './invocation.js';
import { nextOccurrence, parseNcrontab } from './ncrontab.js';

export function startTimer(fn: RegisteredFunction, log: Log) {
  const schedule = parseNcrontab(resolveSettings(String(fn.trigger.schedule)));
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let last = new Date();
  const arm = () => {
    if (stopped) return;
    const next = nextOccurrence(schedule, new Date());
    timer = setTimeout(
      async () => {
        const now = new Date();
        const ctx = context(fn, log);
        await invoke(
          fn,
          log,
          [
            {
              isPastDue: false,
              schedule: { adjustForDST: true },
              scheduleStatus: { last: last.toISOString(), next: next.toISOString(), lastUpdated: now.toISOString() },
            },
          ],
          ctx,
        ).catch(() => undefined);
        last = now;
        arm();
      },
      Math.max(0, next.getTime() - Date.now()),
    );
  };
  if (fn.trigger.runOnStartup) {
    void invoke(fn, log, [{ isPastDue: false, schedule: { adjustForDST: true } }], context(fn, log)).catch(() => undefined);
  }
  arm();
  return async () => {
    stopped = true;
    clearTimeout(timer);
  };
}
