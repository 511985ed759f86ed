// The dashboard's script is bundled at build time (esbuild, Chart.js from npm): `npm run build`
// must produce it where the compiled function looks for it, and the deployment package must keep it.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { root } from '../support/localStack.js';

describe('the dashboard bundle', () => {
  it('is built by npm run build where the compiled dashboard function finds it', async () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(pkg.scripts.build).toContain('build:dashboard');
    expect(pkg.scripts['build:dashboard']).toMatch(/^esbuild .*--bundle/);
    expect(Object.keys(pkg.devDependencies)).toEqual(expect.arrayContaining(['esbuild', 'chart.js']));
    const compiled = pathToFileURL(path.join(root, 'dist/shared/adapters/functions/dashboardBundle.js')).href;
    const { DASHBOARD_BUNDLE, dashboardScript } = (await import(
      compiled
    )) as typeof import('../../shared/adapters/functions/dashboardBundle.js');
    expect(DASHBOARD_BUNDLE.pathname).toBe(path.join(root, 'dist/dashboard/dashboard.js'));
    expect(existsSync(DASHBOARD_BUNDLE)).toBe(true);
    const script = await dashboardScript();
    // Chart.js is inside; nothing is fetched from another origin.
    expect(script).toMatch(/Chart\.js v4/);
    expect(script).not.toMatch(/https?:\/\/(?!www\.chartjs\.org|github\.com)[a-z0-9.-]+\//i);
  });

  it('is kept in the deployment package (.funcignore leaves dist/dashboard in)', () => {
    const ignored = readFileSync(path.join(root, '.funcignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const pattern of ignored) {
      const p = pattern.replace(/^\//, '').replace(/\/$/, '');
      expect(['dist', 'dist/dashboard', 'dist/dashboard/dashboard.js', 'dist/functions', 'dist/shared'], pattern).not.toContain(
        p,
      );
    }
  });
});
