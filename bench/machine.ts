// What a benchmark ran on: figures mean little without the machine, the Node version and the
// commit they come from.
import { execFileSync } from 'node:child_process';
import os from 'node:os';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  load: string;
  commit: string;
}

export function describeMachine(root: string): Machine {
  const cpus = os.cpus();
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    if (dirty.trim()) commit += ' (with uncommitted changes)';
  } catch {
    // not a git checkout: the figures still stand, without their commit
  }
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    load: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
    commit,
  };
}

export function formatMachine(m: Machine): string {
  return [
    `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB memory, ${m.platform}`,
    `node:    ${m.node}`,
    `commit:  ${m.commit}`,
    `load:    ${m.load} (1/5/15-minute load average before the run; other work on the machine shows here)`,
  ].join('\n');
}
