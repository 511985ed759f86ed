// Reads the runnable examples out of the Markdown docs and runs them as a reader would paste them:
// the shell blocks are parsed with POSIX quoting and expansion, `curl` is carried out with fetch
// (Node and npm are all a machine is promised to have; curl is not), and the answer each example
// documents — a `# 202 {…}` comment under the command, or the ```json / ```http block right after
// it — is compared with the real one.
//
// What a documented answer means:
// - a status (`# 202 …`, `HTTP/1.1 202 Accepted`) must be the status; without one, any 2xx;
// - headers shown after a status line must be there with those values;
// - a JSON body must come as application/json (or problem+json) and match: every key shown is
//   there with an equal value, no other key unless the object shows `…`; arrays have the length
//   shown unless they end in `…`; a string with `…` in it is a pattern (`…` = anything); an ISO
//   date or time matches any date or time (examples were made on another day); ids (batchId,
//   messageId, continuationToken, …) match any id and are remembered: the doc's value in later
//   commands and answers stands for the real one, and `<messageId>` for the last one shown;
// - CSV lines must match cell by cell, `…` standing for any cells.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

// ---------------------------------------------------------------------------------------------
// Markdown

export interface CodeBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  text: string;
  /** The heading the block sits under. */
  heading: string;
  /** The block that follows this one with nothing but blank lines between (a documented answer). */
  next?: CodeBlock;
}

export function codeBlocks(file: string, markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  let heading = '';
  let lastEnd = -10;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^#{1,6} /.test(line)) heading = line.replace(/^#+ /, '');
    const open = /^(\s*)(`{3,})\s*([\w+-]*)\s*$/.exec(line);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      if (lines[j]!.trimEnd() === `${indent}${fence}` || lines[j]!.trim() === fence) break;
      body.push(lines[j]!.startsWith(indent!) ? lines[j]!.slice(indent!.length) : lines[j]!);
    }
    const block: CodeBlock = { file, line: i + 1, lang: lang ?? '', text: body.join('\n'), heading };
    const previous = blocks.at(-1);
    if (previous && lines.slice(lastEnd + 1, i).every((l) => l.trim() === '')) previous.next = block;
    blocks.push(block);
    lastEnd = j;
    i = j;
  }
  return blocks;
}

// ---------------------------------------------------------------------------------------------
// Shell: the subset docs use — words with '…', "…" and \ quoting, $VAR, ${VAR}, ${VAR:+word},
// $(command), assignments, `>` redirection, `;` and newlines. Anything else is refused, so an
// example can only be "run" if it is run exactly as written.

type Part = { kind: 'lit'; text: string } | { kind: 'var'; name: string; alt?: Part[] } | { kind: 'cmd'; source: string };
type Word = Part[];

export interface ShellCommand {
  /** 1-based line within the block. */
  line: number;
  /** The command as written (continuations joined). */
  source: string;
  words: Word[];
  /** `> file`, when the output goes to a file. */
  stdoutTo?: Word;
  /** Comment lines right under the command: its documented answer. */
  expected: string[];
}

export class ShellSyntaxError extends Error {}

export function parseShell(text: string): ShellCommand[] {
  const commands: ShellCommand[] = [];
  let i = 0;
  let line = 1;
  let current: ShellCommand | undefined;
  let word: Word | undefined;
  let redirectNext = false;
  /** The last finished command, while only comment lines have followed it. */
  let answerTo: ShellCommand | undefined;
  /** Lines begun since the last command ended. */
  let linesSince = 0;

  const lit = (w: Word, text: string) => {
    const last = w.at(-1);
    if (last?.kind === 'lit') last.text += text;
    else w.push({ kind: 'lit', text });
  };
  const endWord = () => {
    if (!word) return;
    if (!current) current = { line, source: '', words: [], expected: [] };
    if (redirectNext) {
      current.stdoutTo = word;
      redirectNext = false;
    } else current.words.push(word);
    word = undefined;
  };
  const endCommand = (end: number, start: number) => {
    endWord();
    if (redirectNext) throw new ShellSyntaxError(`line ${line}: '>' without a file`);
    if (current) {
      current.source = text
        .slice(start, end)
        .replace(/\\\n\s*/g, ' ')
        .trim();
      commands.push(current);
      answerTo = current;
      linesSince = -1;
    }
    current = undefined;
  };

  /** $… at text[i] (i at the '$'); returns the part and the index after it. */
  const dollar = (at: number): [Part, number] => {
    const c = text[at + 1];
    if (c === '(') {
      if (text[at + 2] === '(') throw new ShellSyntaxError(`line ${line}: arithmetic $((…)) is not supported`);
      let depth = 1;
      let j = at + 2;
      let quote: string | undefined;
      for (; j < text.length && depth > 0; j++) {
        const ch = text[j]!;
        if (quote) {
          if (ch === '\\' && quote === '"') j++;
          else if (ch === quote) quote = undefined;
        } else if (ch === "'" || ch === '"') quote = ch;
        else if (ch === '(') depth++;
        else if (ch === ')') depth--;
      }
      if (depth > 0) throw new ShellSyntaxError(`line ${line}: unterminated $(`);
      return [{ kind: 'cmd', source: text.slice(at + 2, j - 1) }, j];
    }
    if (c === '{') {
      const close = text.indexOf('}', at);
      if (close < 0) throw new ShellSyntaxError(`line ${line}: unterminated \${`);
      const inner = text.slice(at + 2, close);
      const m = /^([A-Za-z_]\w*)(?::\+(.*))?$/s.exec(inner);
      if (!m) throw new ShellSyntaxError(`line ${line}: \${${inner}} is not supported`);
      return [{ kind: 'var', name: m[1]!, ...(m[2] !== undefined ? { alt: wordOf(m[2]) } : {}) }, close + 1];
    }
    const m = /^[A-Za-z_]\w*/.exec(text.slice(at + 1));
    if (m) return [{ kind: 'var', name: m[0] }, at + 1 + m[0].length];
    return [{ kind: 'lit', text: '$' }, at + 1];
  };

  let start = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      endCommand(i, start);
      linesSince++;
      start = i + 1;
      i++;
      continue;
    }
    if (c === '\\' && text[i + 1] === '\n') {
      endWord();
      line++;
      i += 2;
      continue;
    }
    if (c === ' ' || c === '\t') {
      endWord();
      i++;
      continue;
    }
    if (c === '#' && !word) {
      const end = text.indexOf('\n', i);
      const comment = text.slice(i + 1, end < 0 ? text.length : end).replace(/^ /, '');
      // A comment line right under a command (no blank line, no other command) is its answer;
      // a comment after a command on the same line is prose.
      const ownLine = !current;
      if (ownLine && answerTo && linesSince === answerTo.expected.length) answerTo.expected.push(comment);
      else if (ownLine) answerTo = undefined;
      i = end < 0 ? text.length : end;
      continue;
    }
    if (c === ';') {
      endCommand(i, start);
      start = i + 1;
      i++;
      continue;
    }
    if (c === '>' && !word) {
      if (text[i + 1] === '>' || text[i + 1] === '&')
        throw new ShellSyntaxError(`line ${line}: only '> file' redirection is supported`);
      endWord();
      redirectNext = true;
      i++;
      continue;
    }
    // `<messageId>`: a placeholder the reader fills in (the test fills it from an earlier answer).
    const placeholder = c === '<' ? /^<[A-Za-z][\w-]*>/.exec(text.slice(i)) : null;
    if (placeholder) {
      word ??= [];
      lit(word, placeholder[0]);
      i += placeholder[0].length;
      continue;
    }
    if ('|&<()'.includes(c) && !(c === '(' && word)) throw new ShellSyntaxError(`line ${line}: '${c}' is not supported`);
    word ??= [];
    if (c === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) throw new ShellSyntaxError(`line ${line}: unterminated '`);
      const quoted = text.slice(i + 1, close);
      line += quoted.split('\n').length - 1;
      lit(word, quoted);
      i = close + 1;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        const ch = text[j]!;
        if (ch === '\\' && '"\\$`\n'.includes(text[j + 1] ?? '')) {
          if (text[j + 1] !== '\n') lit(word, text[j + 1]!);
          else line++;
          j++;
        } else if (ch === '$') {
          const [part, next] = dollar(j);
          word.push(part);
          j = next - 1;
        } else if (ch === '`') throw new ShellSyntaxError(`line ${line}: backquotes are not supported`);
        else {
          if (ch === '\n') line++;
          lit(word, ch);
        }
      }
      if (j >= text.length) throw new ShellSyntaxError(`line ${line}: unterminated "`);
      i = j + 1;
      continue;
    }
    if (c === '\\') {
      lit(word, text[i + 1] ?? '');
      i += 2;
      continue;
    }
    if (c === '$') {
      const [part, next] = dollar(i);
      word.push(part);
      i = next;
      continue;
    }
    if (c === '`') throw new ShellSyntaxError(`line ${line}: backquotes are not supported`);
    lit(word, c);
    i++;
  }
  endCommand(text.length, start);
  return commands;
}

/** The parts of the `word` of ${VAR:+word}, read as inside double quotes (where the docs use it). */
function wordOf(text: string): Part[] {
  const [command] = parseShell(`x "${text}"`);
  return command?.words[1] ?? [];
}

// ---------------------------------------------------------------------------------------------
// Running commands

export interface HttpResult {
  status: number;
  headers: Headers;
  body: string;
}

export interface RunContext {
  /** Shell variables (the block's assignments, and the ones the test sets). */
  vars: Record<string, string>;
  /** Rewrites the addresses the doc names (localhost:7071, …), in URLs and bodies, to the test's stack. */
  url(url: string): string;
  /** Folder for `> file` and `-D file`. */
  dir: string;
  /** Doc value → real value: ids seen in answers, and `<placeholders>`. */
  bindings: Map<string, string>;
  /** Environment for `npm run …` commands (the stack's settings). */
  env: Record<string, string | undefined>;
  root: string;
}

async function expandWord(word: Word, ctx: RunContext): Promise<string> {
  let out = '';
  for (const part of word) {
    if (part.kind === 'lit') out += part.text;
    else if (part.kind === 'var') {
      const value = ctx.vars[part.name] ?? '';
      out += part.alt ? (value ? await expandWord(part.alt, ctx) : '') : value;
    } else out += (await runSubstitution(part.source, ctx)).replace(/\n+$/, '');
  }
  return bind(out, ctx);
}

/** Replaces what the doc wrote for an id (or `<messageId>`) by the id the stack really gave. */
function bind(text: string, ctx: RunContext): string {
  let out = text;
  for (const [docValue, real] of [...ctx.bindings].sort((a, b) => b[0].length - a[0].length))
    out = out.split(docValue).join(real);
  // `eyJiIjoi…` in a command: the doc's abbreviation of an id it showed in full earlier.
  return out.replace(/([A-Za-z0-9_-]{6,})…/g, (whole, prefix: string) => {
    for (const [docValue, real] of ctx.bindings) if (docValue.startsWith(prefix)) return real;
    return whole;
  });
}

/** $(…): only `node -p`/`node -e`, the one program the docs may assume besides npm. */
async function runSubstitution(source: string, ctx: RunContext): Promise<string> {
  const [command] = parseShell(source);
  if (!command) return '';
  const words = await Promise.all(command.words.map((w) => expandWord(w, ctx)));
  if (words[0] !== 'node') throw new Error(`$(${source}): only node may run inside $(…) in a doc example`);
  const { stdout } = await run(process.execPath, words.slice(1), { cwd: ctx.dir });
  return stdout;
}

export type CommandResult =
  | { kind: 'assignment' }
  | { kind: 'http'; request: { method: string; url: string }; response: HttpResult; output: string }
  | { kind: 'process'; output: string; exitCode: number };

/** Runs one command of a doc example. */
export async function runCommand(command: ShellCommand, ctx: RunContext): Promise<CommandResult> {
  // Leading NAME=value words are assignments (on their own they set shell variables).
  const words: string[] = [];
  let assigning = true;
  const assignments: Record<string, string> = {};
  for (const w of command.words) {
    const first = w[0];
    const m = assigning && first?.kind === 'lit' ? /^([A-Za-z_]\w*)=/.exec(first.text) : null;
    if (m) {
      assignments[m[1]!] = await expandWord(
        [{ kind: 'lit', text: first!.kind === 'lit' ? first!.text.slice(m[0].length) : '' }, ...w.slice(1)],
        ctx,
      );
      continue;
    }
    assigning = false;
    words.push(await expandWord(w, ctx));
  }
  if (words.length === 0) {
    Object.assign(ctx.vars, assignments);
    return { kind: 'assignment' };
  }
  const stdoutTo = command.stdoutTo ? path.join(ctx.dir, await expandWord(command.stdoutTo, ctx)) : undefined;
  let result: CommandResult;
  if (words[0] === 'curl') result = await curl(words.slice(1), ctx);
  else if (words[0] === 'node') {
    const { stdout } = await run(process.execPath, words.slice(1), { cwd: ctx.dir });
    result = { kind: 'process', output: stdout, exitCode: 0 };
  } else if (words[0] === 'npm' && words[1] === 'run') {
    result = await npmRun(words.slice(2), { ...ctx.env, ...assignments }, ctx);
  } else throw new Error(`a doc example runs '${words[0]}', which the docs test does not know`);
  if (stdoutTo) writeFileSync(stdoutTo, result.kind === 'assignment' ? '' : result.output);
  return result;
}

/** `npm run <script> [-- args]`, as npm would run it (the compiled script; the test has built). */
async function npmRun(args: string[], env: Record<string, string | undefined>, ctx: RunContext): Promise<CommandResult> {
  const [script, ...rest] = args;
  const scriptArgs = rest[0] === '--' ? rest.slice(1) : rest;
  if (script !== 'dead-letters') throw new Error(`npm run ${script} is not run by the docs test`);
  try {
    const { stdout, stderr } = await run(process.execPath, [path.join(ctx.root, 'dist/local/deadLetters.js'), ...scriptArgs], {
      cwd: ctx.root,
      env: env as NodeJS.ProcessEnv,
    });
    return { kind: 'process', output: stdout + stderr, exitCode: 0 };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { kind: 'process', output: `${e.stdout ?? ''}${e.stderr ?? ''}`, exitCode: typeof e.code === 'number' ? e.code : 1 };
  }
}

/** curl's options as the docs use them; an unknown one fails, so it is not silently ignored. */
async function curl(args: string[], ctx: RunContext): Promise<CommandResult> {
  let method: string | undefined;
  const headers = new Headers();
  let data: string | undefined;
  let include = false;
  let dumpHeaders: string | undefined;
  let url: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`curl ${a} needs a value`);
      return v;
    };
    if (/^-[sSi]+$/.test(a)) include ||= a.includes('i');
    else if (a === '-X' || a === '--request') method = value();
    else if (a === '-H' || a === '--header') {
      const h = value();
      const colon = h.indexOf(':');
      headers.set(h.slice(0, colon).trim(), h.slice(colon + 1).trim());
    } else if (a === '-d' || a === '--data' || a === '--data-raw') data = (data === undefined ? '' : `${data}&`) + value();
    else if (a === '-D' || a === '--dump-header') dumpHeaders = value();
    else if (a.startsWith('-')) throw new Error(`curl option ${a} is not known to the docs test`);
    else if (url === undefined) url = a;
    else throw new Error(`curl with two URLs (${url}, ${a})`);
  }
  if (!url) throw new Error('curl without a URL');
  if (data !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/x-www-form-urlencoded');
  const target = ctx.url(/^https?:\/\//.test(url) ? url : `http://${url}`);
  const m = method ?? (data !== undefined ? 'POST' : 'GET');
  const response = await fetch(target, { method: m, headers, ...(data !== undefined ? { body: ctx.url(data) } : {}) });
  const body = await response.text();
  const head = [
    `HTTP/1.1 ${response.status} ${response.statusText}`,
    ...[...response.headers].map(([k, v]) => `${k}: ${v}`),
  ].join('\r\n');
  if (dumpHeaders) writeFileSync(path.join(ctx.dir, dumpHeaders), `${head}\r\n\r\n`);
  return {
    kind: 'http',
    request: { method: m, url: target },
    response: { status: response.status, headers: response.headers, body },
    output: include ? `${head}\r\n\r\n${body}` : body,
  };
}

// ---------------------------------------------------------------------------------------------
// Documented answers

export interface Expectation {
  status?: number;
  headers: Array<[string, string]>;
  /** A JSON pattern (see the top of this file), or lines of text (CSV). */
  json?: unknown;
  lines?: string[];
}

/** Reads `# 202 {…}` comment lines, or a ```json / ```http block. */
export function parseExpectation(text: string, lang = ''): Expectation {
  let rest = text.trim();
  const expectation: Expectation = { headers: [] };
  const statusLine = /^HTTP\/[\d.]+ (\d{3})[^\n]*\n?/.exec(rest);
  if (statusLine) {
    expectation.status = Number(statusLine[1]);
    rest = rest.slice(statusLine[0].length);
    for (;;) {
      const header = /^([A-Za-z][\w-]*): ?([^\n]*)\n?/.exec(rest);
      if (!header) break;
      expectation.headers.push([header[1]!, header[2]!.trim()]);
      rest = rest.slice(header[0].length);
    }
    rest = rest.trim();
  } else {
    const status = /^(\d{3})(\s|$)/.exec(rest);
    if (status) {
      expectation.status = Number(status[1]);
      rest = rest.slice(status[0].length).trim();
    }
  }
  if (rest === '') return expectation;
  if (rest.startsWith('{') || rest.startsWith('[') || lang === 'json') {
    expectation.json = JSON.parse(ellipsisToJson(rest));
  } else expectation.lines = rest.split('\n');
  return expectation;
}

/** Pseudo-JSON with bare `…` (any further keys / elements / a value) to JSON with "…" markers. */
export function ellipsisToJson(text: string): string {
  let out = '';
  const stack: string[] = [];
  let inString = false;
  let lastSignificant = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') {
        inString = false;
        lastSignificant = '"';
      }
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') stack.push(c);
    else if (c === '}' || c === ']') stack.pop();
    if (c === '…') {
      out += lastSignificant === ':' || stack.length === 0 ? '"…"' : stack.at(-1) === '{' ? '"…":"…"' : '"…"';
      lastSignificant = '"';
      continue;
    }
    out += c;
    if (!/\s/.test(c)) lastSignificant = c;
  }
  return out;
}

/** Keys whose values are ids: any id matches, and the doc's value stands for it from then on. */
const ID_KEYS = new Set(['batchId', 'messageId', 'acsMessageId', 'inboundMessageId', 'id', 'continuationToken', 'jobId']);
/** Numbers that measure this run rather than describe the answer. */
const VOLATILE_NUMBERS = /^(ms|latencyP50Ms|latencyP95Ms|latencyCount)$/;
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/;
const ISO_DATE = /^\d{4}-\d\d-\d\d$/;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Compares a real JSON answer with the documented pattern; returns what differs (empty: matches).
 * With `shape`, only keys and types are compared (figures that depend on the traffic), and arrays
 * element by element as far as both go.
 */
export function matchJson(doc: unknown, actual: unknown, bindings: Map<string, string>, where = '$', shape = false): string[] {
  const key = where.replace(/^.*\./, '').replace(/\[\d+\]$/, '');
  if (doc === '…') {
    // `<batchId>` in a later command: the last one the doc showed, even as "…".
    if (ID_KEYS.has(key) && typeof actual === 'string') bindings.set(`<${key}>`, actual);
    return [];
  }
  // A figure with nothing to count (a rate of no messages) is null, and a null shown may be a
  // value elsewhere (a group's key): both are the same shape.
  const scalar = (v: unknown) => v === null || typeof v !== 'object';
  if (shape && (actual === null || doc === null) && scalar(doc) && scalar(actual)) return [];
  if (typeof doc === 'string') {
    if (typeof actual !== 'string') return [`${where}: documented a string, got ${JSON.stringify(actual)}`];
    if (shape) return [];
    if (ID_KEYS.has(key)) {
      if (!actual) return [`${where}: empty id`];
      // An abbreviated id ("…-000", "Incoming_…") must still have the form it shows.
      if (doc.includes('…') && !new RegExp(`^${doc.split('…').map(escape).join('[\\s\\S]*')}$`).test(actual)) {
        return [`${where}: documented an id like ${JSON.stringify(doc)}, got ${JSON.stringify(actual)}`];
      }
      const known = bindings.get(doc);
      if (known !== undefined && !doc.includes('…') && known !== actual)
        return [`${where}: ${doc} stands for ${known}, got ${actual}`];
      if (!doc.includes('…')) bindings.set(doc, actual);
      // `<messageId>` in a later command: the last one the doc showed.
      bindings.set(`<${key}>`, actual);
      return [];
    }
    if (ISO_TIME.test(doc)) return ISO_TIME.test(actual) ? [] : [`${where}: documented a time, got ${JSON.stringify(actual)}`];
    if (ISO_DATE.test(doc)) return ISO_DATE.test(actual) ? [] : [`${where}: documented a date, got ${JSON.stringify(actual)}`];
    const expected = bindWithin(doc, bindings);
    if (expected.includes('…')) {
      const pattern = new RegExp(`^${expected.split('…').map(escape).join('[\\s\\S]*')}$`);
      return pattern.test(actual) ? [] : [`${where}: documented ${JSON.stringify(doc)}, got ${JSON.stringify(actual)}`];
    }
    return expected === actual ? [] : [`${where}: documented ${JSON.stringify(doc)}, got ${JSON.stringify(actual)}`];
  }
  if (typeof doc === 'number') {
    if (typeof actual !== 'number') return [`${where}: documented a number, got ${JSON.stringify(actual)}`];
    if (shape || VOLATILE_NUMBERS.test(where.replace(/^.*\./, ''))) return [];
    return doc === actual ? [] : [`${where}: documented ${doc}, got ${actual}`];
  }
  if (typeof doc === 'boolean' && shape)
    return typeof actual === 'boolean' ? [] : [`${where}: documented a boolean, got ${JSON.stringify(actual)}`];
  if (doc === null || typeof doc === 'boolean')
    return doc === actual ? [] : [`${where}: documented ${JSON.stringify(doc)}, got ${JSON.stringify(actual)}`];
  if (Array.isArray(doc)) {
    if (!Array.isArray(actual)) return [`${where}: documented an array, got ${JSON.stringify(actual)?.slice(0, 80)}`];
    const open = doc.at(-1) === '…';
    const items = open ? doc.slice(0, -1) : doc;
    const problems: string[] = [];
    if (shape ? items.length > 0 && actual.length === 0 : open ? actual.length < items.length : actual.length !== items.length) {
      problems.push(`${where}: documented ${items.length}${open ? ' or more' : ''} items, got ${actual.length}`);
    }
    items.forEach((item, i) => {
      if (i < actual.length) problems.push(...matchJson(item, actual[i], bindings, `${where}[${i}]`, shape));
    });
    return problems;
  }
  const docObject = doc as Record<string, unknown>;
  if (typeof actual !== 'object' || actual === null || Array.isArray(actual))
    return [`${where}: documented an object, got ${JSON.stringify(actual)?.slice(0, 80)}`];
  const real = actual as Record<string, unknown>;
  // An object keyed by codes ({"4005": 1}) is a map: in a shape, its keys are data.
  const isMap = (o: object) => Object.keys(o).length > 0 && Object.keys(o).every((k) => /^\d+$/.test(k));
  if (shape && (isMap(docObject) || Object.keys(docObject).length === 0)) {
    const sample = Object.values(docObject)[0];
    return Object.entries(real).flatMap(([k, v]) =>
      sample === undefined ? [] : matchJson(sample, v, bindings, `${where}.${k}`, shape),
    );
  }
  const problems: string[] = [];
  for (const [key, value] of Object.entries(docObject)) {
    if (key === '…') continue;
    if (!(key in real)) problems.push(`${where}.${key}: documented, not in the answer`);
    else problems.push(...matchJson(value, real[key], bindings, `${where}.${key}`, shape));
  }
  if (!('…' in docObject)) {
    for (const key of Object.keys(real)) if (!(key in docObject)) problems.push(`${where}.${key}: in the answer, not documented`);
  }
  return problems;
}

function bindWithin(text: string, bindings: Map<string, string>): string {
  let out = text;
  for (const [docValue, real] of [...bindings].sort((a, b) => b[0].length - a[0].length))
    if (!docValue.startsWith('<')) out = out.split(docValue).join(real);
  return out;
}

/** CSV (or any text) lines: cell by cell, `…` standing for any number of cells. */
export function matchLines(doc: string[], actual: string[]): string[] {
  const problems: string[] = [];
  doc.forEach((line, i) => {
    const got = actual[i];
    if (got === undefined)
      return problems.push(`line ${i + 1}: documented ${JSON.stringify(line)}, the answer has ${actual.length} lines`);
    const pattern = new RegExp(`^${line.split('…').map(escape).join('.*')}$`);
    if (!pattern.test(got))
      problems.push(`line ${i + 1}: documented ${JSON.stringify(line)}, got ${JSON.stringify(got.slice(0, 200))}`);
  });
  return problems;
}

/** Checks an HTTP answer against what the doc shows for it; returns what differs. */
export function checkAnswer(
  expectation: Expectation | undefined,
  response: HttpResult,
  bindings: Map<string, string>,
  shape = false,
): string[] {
  const problems: string[] = [];
  const status = expectation?.status;
  if (status !== undefined ? response.status !== status : response.status < 200 || response.status > 299) {
    problems.push(`status: documented ${status ?? '2xx'}, got ${response.status} ${response.body.slice(0, 300)}`);
    return problems;
  }
  if (!expectation) return problems;
  const type = response.headers.get('content-type') ?? '';
  if (expectation.json !== undefined) {
    if (!/^application\/(problem\+)?json/.test(type))
      problems.push(`content-type: a JSON answer is documented, got ${type || 'none'}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(response.body);
    } catch {
      return [...problems, `body: documented JSON, got ${response.body.slice(0, 200)}`];
    }
    problems.push(...matchJson(expectation.json, parsed, bindings, '$', shape));
  }
  if (expectation.lines) {
    if (expectation.lines[0]?.includes(',') && !/^text\/csv/.test(type))
      problems.push(`content-type: CSV is documented, got ${type}`);
    problems.push(...matchLines(expectation.lines, response.body.replace(/\r\n/g, '\n').split('\n')));
  }
  for (const [name, value] of expectation.headers) {
    const got = response.headers.get(name);
    const expected = bindWithin(value, bindings);
    const same =
      name.toLowerCase() === 'content-type'
        ? got?.toLowerCase().replace(/\s/g, '') === expected.toLowerCase().replace(/\s/g, '')
        : got === expected;
    if (!same) problems.push(`header ${name}: documented ${JSON.stringify(value)}, got ${JSON.stringify(got)}`);
  }
  return problems;
}

export function scratchDir(root: string, name: string): string {
  const dir = path.join(root, `.tmp-docs-${process.pid}`, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}
