// Settings are input too: any environment either parses or fails with a ConfigError whose every
// line names a setting — never another exception.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../shared/config.js';
import { settingsSchema } from '../../shared/settings.js';
import { PROPERTY_RUNS, PROPERTY_SEED } from '../support/hostileInput.js';

const names = Object.keys(settingsSchema.shape);
const value = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.constantFrom(
    '',
    'true',
    '0',
    '-1',
    '1e309',
    'NaN',
    'servicebus',
    'storage',
    '[{"number":"+18005550100","type":"tollFree"}]',
    'endpoint=x;accesskey=y',
    'https://x.example',
  ),
);

it(`loadConfig: any environment parses or names what is wrong (seed ${PROPERTY_SEED}, ${PROPERTY_RUNS} runs)`, () => {
  fc.assert(
    fc.property(fc.dictionary(fc.constantFrom(...names), value), (env) => {
      try {
        loadConfig(env);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        for (const problem of (error as ConfigError).problems) {
          expect(
            names.some((n) => problem.startsWith(n)),
            problem,
          ).toBe(true);
        }
      }
    }),
    { seed: PROPERTY_SEED, numRuns: PROPERTY_RUNS },
  );
});
