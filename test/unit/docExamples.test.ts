// The machinery of the docs test (test/e2e/docs.test.ts): shell words as a shell reads them, and
// documented answers compared as the docs test promises — so a doc cannot pass by accident.
import { describe, expect, it } from 'vitest';
import {
  checkAnswer,
  codeBlocks,
  ellipsisToJson,
  matchJson,
  parseExpectation,
  parseShell,
  runCommand,
  type RunContext,
} from '../support/docExamples.js';

const ctx = (vars: Record<string, string> = {}): RunContext => ({
  vars,
  url: (u) => u,
  dir: '/tmp',
  bindings: new Map(),
  env: {},
  root: '/tmp',
});

describe('parseShell', () => {
  it('joins continuations, keeps quoted newlines and reads the answer under a command', () => {
    const [first, second] = parseShell(
      `curl -s -X POST localhost:7071/api/messages -H 'content-type: application/json' \\\n     -d '{"to":["+14255550123"],\n "message":"Hi"}'\n# 202 {"batchId":"…"}\n\n# prose\ncurl -s localhost:7071/api/health   # trailing prose`,
    );
    expect(first!.words).toHaveLength(9);
    expect(first!.expected).toEqual(['202 {"batchId":"…"}']);
    expect(second!.expected).toEqual([]);
  });

  it('expands variables as a shell does: not in single quotes, ${X:+word}, adjacent quoting', async () => {
    const c = ctx({ API: 'http://h/api', T: 'tok' });
    await runCommand(parseShell(`X="$API/x?a=1\${T:+&t=$T}"'$API'"a"'b'c`)[0]!, c);
    await runCommand(parseShell(`Y="\${NONE:+&t=$NONE}"`)[0]!, c);
    expect(c.vars).toMatchObject({ X: 'http://h/api/x?a=1&t=tok$APIabc', Y: '' });
  });

  it('refuses what it cannot run exactly as written', () => {
    expect(() => parseShell('a | b')).toThrow(/not supported/);
    expect(() => parseShell('echo "$((1+1))"')).toThrow(/arithmetic/);
    expect(() => parseShell("echo 'open")).toThrow(/unterminated/);
  });

  it('runs an assignment with $(node -p …) and uses it later', async () => {
    const c = ctx();
    const [assign] = parseShell(`AT=$(node -p "1 + 1")`);
    await runCommand(assign!, c);
    expect(c.vars.AT).toBe('2');
  });
});

describe('documented answers', () => {
  it('reads `…` as "anything more" in objects and arrays and as any value', () => {
    expect(JSON.parse(ellipsisToJson('{"a":[{"b":"…-000",…},…],"c":…,…}'))).toEqual({
      a: [{ b: '…-000', '…': '…' }, '…'],
      c: '…',
      '…': '…',
    });
  });

  it('matches values exactly, ids by binding, times by form; and reports a changed shape', () => {
    const bindings = new Map<string, string>();
    const doc = { batchId: 'b1', statusUrl: '/api/batches/b1', at: '2026-11-25T10:00:00.000Z', status: 'queued', n: 1 };
    const real = { batchId: 'XYZ', statusUrl: '/api/batches/XYZ', at: '2030-01-01T00:00:00Z', status: 'queued', n: 1 };
    expect(matchJson(doc, real, bindings)).toEqual([]);
    expect(bindings.get('<batchId>')).toBe('XYZ');
    expect(matchJson({ ...doc, status: 'sent' }, real, new Map())).toEqual(['$.status: documented "sent", got "queued"']);
    expect(matchJson({ ...doc, renamed: 1 }, real, new Map())[0]).toMatch(/renamed: documented, not in the answer/);
    expect(matchJson({ batchId: 'b1' }, real, new Map())[0]).toMatch(/in the answer, not documented/);
    expect(matchJson({ batchId: 'b1', '…': '…' }, real, new Map())).toEqual([]);
    expect(matchJson([1, '…'], [1, 2, 3], new Map())).toEqual([]);
    expect(matchJson([1], [1, 2], new Map())[0]).toMatch(/documented 1 items, got 2/);
  });

  it('checks status, content type, headers and CSV lines', () => {
    const headers = new Headers({ 'content-type': 'text/csv; charset=utf-8' });
    const expectation = parseExpectation('sender,submitted,…\n+18005550100,1,…');
    expect(
      checkAnswer(expectation, { status: 200, headers, body: 'sender,submitted,sent\r\n+18005550100,1,1\r\n' }, new Map()),
    ).toEqual([]);
    expect(
      checkAnswer(
        parseExpectation('HTTP/1.1 202 Accepted\nIdempotent-Replayed: true'),
        { status: 202, headers, body: '' },
        new Map(),
      )[0],
    ).toMatch(/Idempotent-Replayed/);
    expect(checkAnswer(parseExpectation('202 {"a":1}'), { status: 400, headers, body: '{}' }, new Map())[0]).toMatch(
      /status: documented 202, got 400/,
    );
  });

  it('finds fenced blocks, their headings and the answer block right after', () => {
    const blocks = codeBlocks('x.md', '## GET /x\n\n```sh\ncurl x\n```\n\n```json\n{"a":1}\n```\n\nText\n\n```json\n{}\n```\n');
    expect(blocks.map((b) => [b.lang, b.heading, b.line])).toEqual([
      ['sh', 'GET /x', 3],
      ['json', 'GET /x', 7],
      ['json', 'GET /x', 13],
    ]);
    expect(blocks[0]!.next).toBe(blocks[1]);
    expect(blocks[1]!.next).toBeUndefined();
  });
});
