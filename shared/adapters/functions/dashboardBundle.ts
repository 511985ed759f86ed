// Finds the dashboard's script bundle, which `npm run build` writes to dist/dashboard/dashboard.js
// (esbuild, Chart.js included). It is read relative to this compiled module, so it is found the
// same way under the local host, `func start` and in the deployed package (dist/ is deployed).
import { readFile } from 'node:fs/promises';

export const DASHBOARD_BUNDLE = new URL('../../../dashboard/dashboard.js', import.meta.url);

let cached: Promise<string> | undefined;

/** The bundle's text, read once per process. */
export function dashboardScript(): Promise<string> {
  cached ??= readFile(DASHBOARD_BUNDLE, 'utf8').catch((error: unknown) => {
    cached = undefined;
    throw new Error(`the dashboard bundle ${DASHBOARD_BUNDLE.pathname} is missing; run npm run build (${(error as Error).message})`);
  });
  return cached;
}
