// The check that guards infra/ must fail on the mistakes the old text-reading tests let through
// (issue 16: five compile-breaking edits all passed the 46 infra tests). Each edit is made to a copy
// of infra/, and `npm run infra:check`'s script must exit non-zero, naming the file and the problem.
import { execFile, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { root } from './armTemplate.js';

interface Edit {
  what: string;
  file: string;
  from: string;
  to: string;
  /** What the check must say about it. */
  diagnostic: RegExp;
}

const EDITS: Edit[] = [
  {
    what: 'a misspelt property',
    file: 'modules/storage.bicep',
    from: 'allowBlobPublicAccess: false',
    to: 'allowBlobPublicAcess: false',
    diagnostic: /storage\.bicep:\d+:\d+ error BCP089: The property "allowBlobPublicAcess" is not allowed/,
  },
  {
    what: 'API version 2099-01-01',
    file: 'modules/servicebus.bicep',
    from: "'Microsoft.ServiceBus/namespaces@2024-01-01' = {",
    to: "'Microsoft.ServiceBus/namespaces@2099-01-01' = {",
    diagnostic:
      /servicebus\.bicep:\d+:\d+ error BCP081: Resource type "Microsoft\.ServiceBus\/namespaces@2099-01-01" does not have types available/,
  },
  {
    what: 'an unknown property',
    file: 'modules/eventgrid-topic.bicep',
    from: 'disableLocalAuth: true',
    to: "disableLocalAuth: true\n    notAProperty: 'x'",
    diagnostic: /eventgrid-topic\.bicep:\d+:\d+ error BCP037: The property "notAProperty" is not allowed/,
  },
  {
    what: 'location: 42',
    file: 'modules/identity.bicep',
    from: 'location: location',
    to: 'location: 42',
    diagnostic: /identity\.bicep:\d+:\d+ error BCP036: The property "location" expected a value of type "string"/,
  },
  {
    what: 'a string default on an int parameter',
    file: 'modules/servicebus.bicep',
    from: 'param maxDeliveryCount int = 10',
    to: "param maxDeliveryCount int = '10'",
    diagnostic: /servicebus\.bicep:\d+:\d+ error BCP033: Expected a value of type "int"/,
  },
];

describe('infra:check fails on each compile-breaking edit', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'sms-infra-edits-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("passes on infra/ as it is (so the failures below are the edits')", () => {
    const result = spawnSync(process.execPath, [path.join(root, 'infra/tools/check.mjs'), '--no-build'], { encoding: 'utf8' });
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
  });

  // One after the other: on a busy two-core machine, concurrent CLI starts only time out.
  for (const edit of EDITS) {
    it(`fails on ${edit.what} (${edit.file})`, async () => {
      const copy = path.join(work, edit.what.replace(/\W+/g, '-'));
      cpSync(path.join(root, 'infra'), copy, { recursive: true });
      const file = path.join(copy, edit.file);
      const source = readFileSync(file, 'utf8');
      expect(source, `the edit's target text is still in ${edit.file}`).toContain(edit.from);
      writeFileSync(file, source.replace(edit.from, edit.to));
      const result = await new Promise<{ status: number | null; output: string }>((resolve) => {
        execFile(
          process.execPath,
          [path.join(root, 'infra/tools/check.mjs'), '--infra', copy, '--out', path.join(copy, '.out')],
          (error, stdout, stderr) =>
            resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, output: `${stdout}${stderr}` }),
        );
      });
      const { output } = result;
      expect(result.status, output).toBe(1);
      expect(output).toMatch(edit.diagnostic);
      expect(output).toMatch(/infra:check failed/);
    });
  }
});
