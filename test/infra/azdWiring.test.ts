// The azd wiring around the compiled template: main.parameters.json supplies what main.json needs and
// nothing it does not declare, azure.yaml runs the hooks that exist, after provision and after deploy,
// with the azd version that parses JSON parameters and knows remoteBuild.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from './armTemplate.js';
import { main, parameterEnv } from './environments.js';

const yaml = readFileSync(path.join(root, 'azure.yaml'), 'utf8');

describe('azd wiring', () => {
  it('main.parameters.json supplies every required parameter of main.json, and only declared ones', () => {
    const declared = main.parameters!;
    const supplied = Object.keys(parameterEnv());
    for (const name of supplied) expect(Object.keys(declared), `main.json has no parameter ${name}`).toContain(name);
    for (const [name, p] of Object.entries(declared)) {
      if (p.defaultValue === undefined) expect(supplied, `main.parameters.json does not supply ${name}`).toContain(name);
    }
    expect(parameterEnv()).toMatchObject({
      environmentName: 'AZURE_ENV_NAME',
      location: 'AZURE_LOCATION',
      smsSenders: 'SMS_SENDERS',
    });
    // azd parses an environment value as JSON only for array and object parameters.
    for (const name of ['smsSenders', 'inboundKeywords', 'inboundReplies']) {
      expect(['array', 'object']).toContain(declared[name]!.type.toLowerCase());
    }
  });

  it('azure.yaml: the function app "api" from dist/deploy, no remote build, azd >= 1.23.5', () => {
    expect(yaml).toMatch(/^services:\s*\n\s+api:\s*\n(?:\s+[\w-]+:.*\n)*?\s+host:\s*function\b/m);
    expect(yaml).toMatch(/^\s+dist:\s*dist\/deploy\s*$/m);
    expect(yaml).toMatch(/^\s+remoteBuild:\s*false\s*$/m);
    expect(yaml).toMatch(/^requiredVersions:\s*\n\s+azd:\s*'>= 1\.23\.5'/m);
  });

  it('azure.yaml runs stage two after provision and after deploy, on every OS, and every hook exists', () => {
    for (const hook of ['postprovision', 'postdeploy']) {
      const block = new RegExp(`^  ${hook}:\\n((?:    .*\\n)+)`, 'm').exec(yaml)?.[1] ?? '';
      expect(block, hook).toMatch(/posix:[\s\S]*run: node \.\/infra\/hooks\/stageTwo\.mjs/);
      expect(block, hook).toMatch(/windows:[\s\S]*run: node \.\/infra\/hooks\/stageTwo\.mjs/);
      expect(block, hook).not.toMatch(/continueOnError: true/);
    }
    for (const m of yaml.matchAll(/run:\s*node\s+\.\/(infra\/hooks\/[\w.-]+)/g))
      expect(existsSync(path.join(root, m[1]!)), m[1]).toBe(true);
  });
});
