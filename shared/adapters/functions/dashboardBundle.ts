// Finds the dashboard's script bundle, which `npm run build` writes to dist/dashboard/dashboard.js
// (esbuild, Chart.js included). It is read relative to this module: three folders up in dist/ (the
// local host, `func start`), or in dashboard/ beside it in the deployment package, where the app is
// one bundle at the package root (infra/tools/package.mjs).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

const WHERE = [new URL('../../../dashboard/dashboard.js', import.meta.url), new URL('./dashboard/dashboard.js', import.meta.url)];

export const DASHBOARD_BUNDLE = WHERE.find((url) => existsSync(url)) ?? WHERE[0]!;

let cached: Promise<string> | undefined;

/** The bundle's text, read once per process. */
export function dashboardScript(): Promise<string> {
  cached ??= readFile(DASHBOARD_BUNDLE, 'utf8').catch((error: unknown) => {
    cached = undefined;
    throw new Error(
      `the dashboard bundle ${DASHBOARD_BUNDLE.pathname} is missing; run npm run build (${(error as Error).message})`,
    );
  });
  return cached;
}
