// CPU time of processes, from /proc (Linux): what a run cost each part of the stack, a figure that
// other work on the machine disturbs far less than elapsed time. Elsewhere the figures are absent.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

/** User + system CPU seconds a process has used so far; undefined where /proc is not available. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  if (pid === process.pid) {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1e6;
  }
  try {
    // The command name (field 2) may hold spaces; the fields after it are space-separated.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** The child processes of this process whose command line contains `needle`. */
export function childPids(needle: string): number[] {
  try {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .filter((pid) => {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
          const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
          return ppid === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle);
        } catch {
          return false;
        }
      });
  } catch {
    return [];
  }
}

/** CPU seconds used by each named process between start() and the call of the returned function. */
export function cpuMeter(pids: Record<string, number | undefined>): () => Record<string, number | undefined> {
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
  return () =>
    Object.fromEntries(
      Object.entries(pids).map(([name, pid]) => {
        const start = before[name];
        const end = cpuSeconds(pid);
        return [name, start === undefined || end === undefined ? undefined : end - start];
      }),
    );
}
