// The Azure CLI, as the azd hooks call it: one place that runs `az`, returns its output, and turns
// a failure into a message that says what was being done. On Windows az is az.cmd, run by the shell.
import { spawnSync } from 'node:child_process';

const shell = process.platform === 'win32';

/** Runs az with the arguments; `{ ok, out, err }`, never throws for a non-zero exit. */
export function az(args, { json = false } = {}) {
  const result = spawnSync('az', json ? [...args, '--output', 'json'] : args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    shell,
  });
  if (result.error) return { ok: false, out: '', err: result.error.message, missing: result.error.code === 'ENOENT' };
  const out = (result.stdout ?? '').trim();
  let value = out;
  if (json && result.status === 0) {
    try {
      value = out ? JSON.parse(out) : null;
    } catch {
      value = out;
    }
  }
  return { ok: result.status === 0, out: value, err: (result.stderr ?? '').trim() };
}

/** Whether az is installed and signed in to the subscription. */
export function azReady(subscriptionId) {
  const version = az(['version', '--output', 'none']);
  if (version.missing || (!version.ok && /not (found|recognized)/i.test(version.err))) return { ok: false, reason: 'missing' };
  const account = az(['account', 'show', ...(subscriptionId ? ['--subscription', subscriptionId] : []), '--output', 'none']);
  return account.ok ? { ok: true } : { ok: false, reason: 'signed-out', detail: account.err };
}

/** Waits `seconds` (polling loops; tests shorten the intervals through the environment). */
export function sleep(seconds) {
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}
