// Runs the compiled function app in a fresh Node process with the given settings and returns
// what it registered with the Functions host, captured from @azure/functions itself.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { root } from './localStack.js';

export interface CapturedFunction {
  name: string;
  trigger: { type: string; [setting: string]: unknown };
  bindings: Record<string, { type: string; direction: string; [setting: string]: unknown }>;
}

export function captureInChild(env: Record<string, string>): CapturedFunction[] {
  const script = `
    const { captureRegistrations } = await import(${JSON.stringify(path.join(root, 'dist/local/host/functionsCore.js'))});
    const fns = await captureRegistrations(${JSON.stringify(path.join(root, 'dist/functions/index.js'))});
    process.stdout.write(JSON.stringify(fns.map(({ name, trigger, bindings }) => ({ name, trigger, bindings }))));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(out) as CapturedFunction[];
}
