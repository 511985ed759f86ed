// `npm test` does not compile infra/: that needs the Bicep CLI, which a developer's machine may not
// have, and runs as `npm run test:infra` (CI runs both). This says whether this machine can, and if
// not, how to get it, so a skipped check is never silent.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '../support/localStack.js';
// @ts-expect-error -- a plain ES module of the infra tooling, without type declarations
import { HOW_TO_GET_BICEP, findBicep } from '../../infra/tools/bicep.mjs';

describe('the Bicep checks', () => {
  it('have their own scripts, and a bicepconfig.json that makes the kept linter rules errors', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['infra:check']).toBe('node infra/tools/check.mjs');
    expect(pkg.scripts['test:infra']).toMatch(
      /^npm run build && npm run infra:check && vitest run --config test\/infra\/vitest\.config\.ts$/,
    );
    const config = JSON.parse(readFileSync(path.join(root, 'infra', 'bicepconfig.json'), 'utf8')) as {
      analyzers: { core: { rules: Record<string, { level: string }> } };
    };
    const levels = Object.values(config.analyzers.core.rules).map((r) => r.level);
    expect(levels.filter((l) => l === 'error').length).toBeGreaterThan(20);
    expect(levels.every((l) => l === 'error' || l === 'off')).toBe(true);
    expect(existsSync(path.join(root, 'test', 'infra', 'vitest.config.ts'))).toBe(true);
  });

  it('say whether this machine can run them, and how to get the CLI when it cannot', () => {
    const found = findBicep({ restore: false, log: () => {} }) as { missing?: string; version?: string; source?: string };
    if (found.missing) {
      const dotnet = /the \.NET SDK/.test(HOW_TO_GET_BICEP);
      console.warn(`npm run test:infra cannot run here yet: ${found.missing}`);
      expect(dotnet).toBe(true);
    } else {
      console.log(`npm run test:infra can run here: Bicep CLI ${found.version} (${found.source}).`);
      expect(found.version).toMatch(/^\d+\.\d+\.\d+$/);
    }
  });
});
