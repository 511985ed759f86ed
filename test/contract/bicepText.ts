// A small, careful reader of Bicep source text for the infra contract tests: the Bicep compiler
// cannot run here, so the tests read declarations, objects and strings from the text themselves.
// It understands comments, single-quoted strings with escapes and ${} interpolation, ''' strings,
// nested brackets and multi-line ternaries; it does not evaluate Bicep, it only resolves the simple
// expressions (literals, vars, params passed by a module call, module outputs) the tests need.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export class BicepSyntaxError extends Error {
  constructor(message: string, source: string, index: number, path = '<inline>') {
    const line = source.slice(0, index).split('\n').length;
    super(`${path}:${line}: ${message}`);
    this.name = 'BicepSyntaxError';
  }
}

const CLOSER: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

/** Index just past the string that starts at `i` (which must be a quote). */
export function skipString(src: string, i: number): number {
  if (src.startsWith("'''", i)) {
    const end = src.indexOf("'''", i + 3);
    if (end < 0) throw new BicepSyntaxError('unterminated multi-line string', src, i);
    let j = end + 3;
    while (src[j] === "'") j++; // a ''' string may end in quotes of its own
    return j;
  }
  let j = i + 1;
  while (j < src.length) {
    const c = src[j];
    if (c === '\\') {
      j += 2;
    } else if (c === "'") {
      return j + 1;
    } else if (c === '$' && src[j + 1] === '{') {
      j = skipBalanced(src, j + 1);
    } else if (c === '\n') {
      throw new BicepSyntaxError('line break inside a string', src, i);
    } else {
      j++;
    }
  }
  throw new BicepSyntaxError('unterminated string', src, i);
}

/** Index just past the bracket that closes the one at `i`. Strings inside are skipped. */
export function skipBalanced(src: string, i: number): number {
  const open = src[i];
  if (open === undefined || !(open in CLOSER)) throw new BicepSyntaxError(`expected a bracket, found "${open}"`, src, i);
  const stack: string[] = [CLOSER[open]!];
  let j = i + 1;
  while (j < src.length) {
    const c = src[j]!;
    if (c === "'") {
      j = skipString(src, j);
      continue;
    }
    if (c in CLOSER) {
      stack.push(CLOSER[c]!);
    } else if (c === ')' || c === ']' || c === '}') {
      const expected = stack.pop();
      if (expected !== c) throw new BicepSyntaxError(`"${c}" closes "${expected ?? 'nothing'}"`, src, j);
      if (stack.length === 0) return j + 1;
    }
    j++;
  }
  throw new BicepSyntaxError(`"${open}" is never closed`, src, i);
}

/** The source with // and /* *\/ comments blanked out (line breaks and offsets are kept). */
export function stripComments(src: string): string {
  let out = '';
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === "'") {
      const end = skipString(src, i);
      out += src.slice(i, end);
      i = end;
    } else if (c === '/' && src[i + 1] === '/') {
      const end = src.indexOf('\n', i);
      const stop = end < 0 ? src.length : end;
      out += ' '.repeat(stop - i);
      i = stop;
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw new BicepSyntaxError('unterminated comment', src, i);
      out += src.slice(i, end + 2).replace(/[^\n]/g, ' ');
      i = end + 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const LEADING_CONTINUATION = /^(\?\?|\?|:|\.|&&|\|\|)/;
const TRAILING_CONTINUATION = /(&&|\|\||\?\?|[+*/%,=]|\b(and|or))\s*$/;

/**
 * End (exclusive) of the logical line starting at `i`: a line break at bracket depth 0 ends it,
 * unless the expression obviously goes on (a multi-line ternary or a trailing operator). With
 * `stopAtComma`, a comma at depth 0 ends it too (single-line objects and arrays).
 */
function logicalLineEnd(code: string, i: number, limit = code.length, stopAtComma = false): number {
  let j = i;
  while (j < limit) {
    const c = code[j]!;
    if (c === "'") {
      j = skipString(code, j);
    } else if (c in CLOSER) {
      j = skipBalanced(code, j);
    } else if (c === ',' && stopAtComma) {
      return j;
    } else if (c === '\n') {
      const before = code.slice(i, j);
      let k = j + 1;
      while (k < limit && /\s/.test(code[k]!)) k++;
      const next = code.slice(k, Math.min(limit, k + 2));
      if (k < limit && (LEADING_CONTINUATION.test(next) || TRAILING_CONTINUATION.test(before))) {
        j = k;
      } else {
        return j;
      }
    } else {
      j++;
    }
  }
  return limit;
}

/** Splits a region of code into its logical lines (statements, object entries or array items). */
function logicalLines(code: string, start = 0, end = code.length, commas = false): Array<{ text: string; start: number }> {
  const lines: Array<{ text: string; start: number }> = [];
  let i = start;
  while (i < end) {
    while (i < end && (/\s/.test(code[i]!) || (commas && code[i] === ','))) i++;
    if (i >= end) break;
    const stop = logicalLineEnd(code, i, end, commas);
    const text = code.slice(i, stop).trim();
    if (text) lines.push({ text, start: i });
    i = stop;
  }
  return lines;
}

export interface Decorator {
  name: string;
  /** The text between the decorator's parentheses. */
  args: string;
}

export interface Statement {
  keyword: string;
  /** The statement without its decorators. */
  text: string;
  decorators: Decorator[];
  line: number;
}

export interface ParamDecl {
  name: string;
  type: string;
  defaultValue?: string;
  decorators: Decorator[];
  line: number;
}

export interface OutputDecl {
  name: string;
  type: string;
  value: string;
  decorators: Decorator[];
  line: number;
}

export interface VarDecl {
  name: string;
  value: string;
  line: number;
}

export interface Loop {
  item: string;
  index?: string;
  source: string;
}

export interface ResourceDecl {
  symbol: string;
  type: string;
  apiVersion: string;
  existing: boolean;
  condition?: string;
  loop?: Loop;
  /** The object literal that declares the resource. */
  body: string;
  line: number;
}

export interface ModuleDecl {
  symbol: string;
  path: string;
  condition?: string;
  loop?: Loop;
  body: string;
  line: number;
}

export interface BicepFile {
  path: string;
  source: string;
  /** The source with comments blanked out. */
  code: string;
  statements: Statement[];
  params: ParamDecl[];
  outputs: OutputDecl[];
  vars: VarDecl[];
  resources: ResourceDecl[];
  modules: ModuleDecl[];
}

/** Index of the first `=` at depth 0 that is an assignment (not ==, !=, <=, >=, =>, =~). */
function assignmentIndex(text: string): number {
  let j = 0;
  while (j < text.length) {
    const c = text[j]!;
    if (c === "'") {
      j = skipString(text, j);
      continue;
    }
    if (c in CLOSER) {
      j = skipBalanced(text, j);
      continue;
    }
    if (c === '=' && !'=!<>'.includes(text[j - 1] ?? '') && !'=>~'.includes(text[j + 1] ?? '')) return j;
    j++;
  }
  return -1;
}

/** Index of the first `:` at depth 0 (not part of `::`), or -1. */
function colonIndex(text: string, from = 0): number {
  let j = from;
  while (j < text.length) {
    const c = text[j]!;
    if (c === "'") {
      j = skipString(text, j);
      continue;
    }
    if (c in CLOSER) {
      j = skipBalanced(text, j);
      continue;
    }
    if (c === ':' && text[j + 1] !== ':' && text[j - 1] !== ':') return j;
    j++;
  }
  return -1;
}

function takeDecorators(text: string): { decorators: Decorator[]; rest: string } {
  const decorators: Decorator[] = [];
  let rest = text;
  for (;;) {
    const m = /^@\s*([A-Za-z_][\w.]*)\s*\(/.exec(rest);
    if (!m) break;
    const open = m[0].length - 1;
    const close = skipBalanced(rest, open);
    decorators.push({ name: m[1]!.replace(/^sys\./, ''), args: rest.slice(open + 1, close - 1).trim() });
    rest = rest.slice(close).trimStart();
  }
  return { decorators, rest };
}

/** Splits a resource or module value into its loop, condition and object body. */
export function declarationValue(value: string): { loop?: Loop; condition?: string; body: string } {
  let v = value.trim();
  let loop: Loop | undefined;
  if (v.startsWith('[')) {
    if (skipBalanced(v, 0) !== v.length) throw new BicepSyntaxError('unexpected text after a loop', v, 0);
    const inner = v.slice(1, -1).trim();
    const m = /^for\s+(?:\(\s*(\w+)\s*,\s*(\w+)\s*\)|(\w+))\s+in\s+/.exec(inner);
    if (!m) throw new BicepSyntaxError('expected "for <item> in <source>:"', inner, 0);
    const colon = colonIndex(inner, m[0].length);
    if (colon < 0) throw new BicepSyntaxError('a loop needs ":" after its source', inner, 0);
    loop = {
      item: (m[1] ?? m[3])!,
      ...(m[2] ? { index: m[2] } : {}),
      source: inner.slice(m[0].length, colon).trim(),
    };
    v = inner.slice(colon + 1).trim();
  }
  let condition: string | undefined;
  const ifMatch = /^if\s*\(/.exec(v);
  if (ifMatch) {
    const open = ifMatch[0].length - 1;
    const close = skipBalanced(v, open);
    condition = v.slice(open + 1, close - 1).trim();
    v = v.slice(close).trim();
  }
  if (!v.startsWith('{') || skipBalanced(v, 0) !== v.length) {
    throw new BicepSyntaxError('expected an object literal', v, 0);
  }
  return { ...(loop ? { loop } : {}), ...(condition !== undefined ? { condition } : {}), body: v };
}

/** Parses Bicep source into its top-level declarations. Throws BicepSyntaxError on malformed text. */
export function parseBicep(source: string, path = '<inline>'): BicepFile {
  let code: string;
  try {
    code = stripComments(source);
  } catch (e) {
    throw e instanceof BicepSyntaxError ? new BicepSyntaxError(e.message.replace(/^<inline>:\d+: /, ''), source, 0, path) : e;
  }
  const lineOf = (index: number) => source.slice(0, index).split('\n').length;
  const file: BicepFile = { path, source, code, statements: [], params: [], outputs: [], vars: [], resources: [], modules: [] };
  let pending: Decorator[] = [];
  let lines: Array<{ text: string; start: number }>;
  try {
    lines = logicalLines(code);
  } catch (e) {
    if (e instanceof BicepSyntaxError) throw new BicepSyntaxError(e.message.replace(/^<inline>:\d+: /, ''), source, 0, path);
    throw e;
  }
  for (const { text, start } of lines) {
    const { decorators, rest } = takeDecorators(text);
    pending.push(...decorators);
    if (!rest) continue;
    const keyword = /^[A-Za-z_]\w*/.exec(rest)?.[0] ?? '';
    const statement: Statement = { keyword, text: rest, decorators: pending, line: lineOf(start) };
    pending = [];
    file.statements.push(statement);
    const fail = (what: string) => {
      throw new BicepSyntaxError(what, source, start, path);
    };
    if (keyword === 'param') {
      const eq = assignmentIndex(rest);
      const head = (eq < 0 ? rest : rest.slice(0, eq)).trim();
      const m = /^param\s+([A-Za-z_]\w*)\s+([\s\S]+)$/.exec(head);
      if (!m) fail('malformed param');
      file.params.push({
        name: m![1]!,
        type: m![2]!.trim(),
        ...(eq >= 0 ? { defaultValue: rest.slice(eq + 1).trim() } : {}),
        decorators: statement.decorators,
        line: statement.line,
      });
    } else if (keyword === 'output') {
      const eq = assignmentIndex(rest);
      const m = eq < 0 ? null : /^output\s+([A-Za-z_]\w*)\s+([\s\S]+)$/.exec(rest.slice(0, eq).trim());
      if (!m) fail('malformed output');
      file.outputs.push({
        name: m![1]!,
        type: m![2]!.trim(),
        value: rest.slice(eq + 1).trim(),
        decorators: statement.decorators,
        line: statement.line,
      });
    } else if (keyword === 'var') {
      const m = /^var\s+([A-Za-z_]\w*)\s*=\s*([\s\S]+)$/.exec(rest);
      if (!m) fail('malformed var');
      file.vars.push({ name: m![1]!, value: m![2]!.trim(), line: statement.line });
    } else if (keyword === 'resource') {
      const m = /^resource\s+([A-Za-z_]\w*)\s+'([^'@]+)@([^']+)'\s+(existing\s+)?=\s*([\s\S]+)$/.exec(rest);
      if (!m) fail("malformed resource (expected resource <symbol> '<type>@<apiVersion>' [existing] = ...)");
      file.resources.push({
        symbol: m![1]!,
        type: m![2]!,
        apiVersion: m![3]!,
        existing: Boolean(m![4]),
        ...declarationValue(m![5]!),
        line: statement.line,
      });
    } else if (keyword === 'module') {
      const m = /^module\s+([A-Za-z_]\w*)\s+'([^']+)'\s*=\s*([\s\S]+)$/.exec(rest);
      if (!m) fail('malformed module');
      file.modules.push({ symbol: m![1]!, path: m![2]!, ...declarationValue(m![3]!), line: statement.line });
    } else if (!['targetScope', 'metadata', 'type', 'func', 'import', 'using', 'extension'].includes(keyword)) {
      fail(`unexpected statement "${rest.slice(0, 40)}"`);
    }
  }
  if (pending.length > 0) throw new BicepSyntaxError('decorator without a declaration', source, source.length - 1, path);
  return file;
}

export function loadBicep(path: string): BicepFile {
  return parseBicep(readFileSync(path, 'utf8'), path);
}

export interface Entry {
  /** The key without quotes; "..." for a spread entry. */
  key: string;
  value: string;
}

/** The entries of an object literal `{ ... }` (newline- or comma-separated). */
export function objectEntries(objectText: string): Entry[] {
  const text = objectText.trim();
  if (!text.startsWith('{') || skipBalanced(text, 0) !== text.length) {
    throw new BicepSyntaxError('expected an object literal', text, 0);
  }
  const entries: Entry[] = [];
  for (const { text: line } of logicalLines(text, 1, text.length - 1, true)) {
    const { rest } = takeDecorators(line); // decorators on type members
    if (rest.startsWith('...')) {
      entries.push({ key: '...', value: rest.slice(3).trim() });
      continue;
    }
    const colon = colonIndex(rest);
    if (colon < 0) {
      // A nested declaration (e.g. a child resource); not an entry.
      continue;
    }
    const rawKey = rest.slice(0, colon).trim();
    const key = rawKey.startsWith("'") ? (stringLiteral(rawKey) ?? rawKey) : rawKey.replace(/\?$/, '');
    entries.push({ key, value: rest.slice(colon + 1).trim() });
  }
  return entries;
}

/** The items of an array literal `[ ... ]`. */
export function arrayItems(arrayText: string): string[] {
  const text = arrayText.trim();
  if (!text.startsWith('[') || skipBalanced(text, 0) !== text.length) {
    throw new BicepSyntaxError('expected an array literal', text, 0);
  }
  return logicalLines(text, 1, text.length - 1, true).map((l) => l.text);
}

/** The comma-separated parts of an argument list (commas inside brackets and strings don't count). */
export function splitArguments(text: string): string[] {
  return logicalLines(text, 0, text.length, true).map((l) => l.text);
}

/** The value at `path` in an object literal, or undefined. */
export function getProperty(objectText: string, path: readonly string[]): string | undefined {
  let current = objectText.trim();
  for (const key of path) {
    if (!current.startsWith('{')) return undefined;
    const entry = objectEntries(current).find((e) => e.key === key);
    if (!entry) return undefined;
    current = entry.value;
  }
  return current;
}

/** Parts of a string expression: literal text and ${} expressions. Undefined if not a string. */
export function stringParts(expr: string): Array<{ text: string } | { expr: string }> | undefined {
  const e = expr.trim();
  if (!e.startsWith("'")) return undefined;
  if (e.startsWith("'''")) {
    return e.endsWith("'''") && e.length >= 6 ? [{ text: e.slice(3, -3) }] : undefined;
  }
  let end: number;
  try {
    end = skipString(e, 0);
  } catch {
    return undefined;
  }
  if (end !== e.length) return undefined;
  const parts: Array<{ text: string } | { expr: string }> = [];
  let text = '';
  let j = 1;
  while (j < e.length - 1) {
    const c = e[j]!;
    if (c === '\\') {
      const n = e[j + 1]!;
      text += ({ n: '\n', r: '\r', t: '\t', '\\': '\\', "'": "'", $: '$' } as Record<string, string>)[n] ?? n;
      j += 2;
    } else if (c === '$' && e[j + 1] === '{') {
      const close = skipBalanced(e, j + 1);
      if (text) parts.push({ text });
      text = '';
      parts.push({ expr: e.slice(j + 2, close - 1).trim() });
      j = close;
    } else {
      text += c;
      j++;
    }
  }
  if (text || parts.length === 0) parts.push({ text });
  return parts;
}

/** The value of a string literal without interpolation, or undefined. */
export function stringLiteral(expr: string): string | undefined {
  const parts = stringParts(expr);
  if (!parts || parts.some((p) => 'expr' in p)) return undefined;
  return parts.map((p) => ('text' in p ? p.text : '')).join('');
}

/** Every .bicep file under a directory. */
export function bicepFilesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) found.push(...bicepFilesUnder(full));
    else if (name.endsWith('.bicep')) found.push(full);
  }
  return found.sort();
}

export interface ModuleCall {
  from: BicepFile;
  decl: ModuleDecl;
  /** Absolute path of the module file. */
  target: string;
}

/** All Bicep files of an infra directory, with the module calls between them and a value resolver. */
export class BicepProject {
  readonly files = new Map<string, BicepFile>();
  readonly calls: ModuleCall[] = [];

  constructor(readonly root: string) {
    for (const path of bicepFilesUnder(root)) this.files.set(resolve(path), loadBicep(path));
    for (const file of this.files.values()) {
      for (const decl of file.modules) {
        if (/^(br|ts)[:/]/.test(decl.path)) continue; // registry modules are not read
        this.calls.push({ from: file, decl, target: resolve(dirname(file.path), decl.path) });
      }
    }
  }

  file(relativePath: string): BicepFile {
    const file = this.files.get(resolve(this.root, relativePath));
    if (!file) throw new Error(`${relativePath} not found under ${this.root}`);
    return file;
  }

  name(file: BicepFile): string {
    return relative(this.root, file.path);
  }

  callsOf(file: BicepFile): ModuleCall[] {
    return this.calls.filter((c) => c.target === resolve(file.path));
  }

  /** Every resource of a type (without API version) across the project. */
  resourcesOfType(type: string): Array<{ file: BicepFile; resource: ResourceDecl }> {
    const found: Array<{ file: BicepFile; resource: ResourceDecl }> = [];
    for (const file of this.files.values()) {
      for (const resource of file.resources) {
        if (resource.type.toLowerCase() === type.toLowerCase()) found.push({ file, resource });
      }
    }
    return found;
  }

  /**
   * The string an expression evaluates to, when it can be known from the text: literals,
   * interpolations, vars, params (from the one module call that passes them, or their default),
   * module outputs, resource names and string(<number>). Undefined otherwise.
   */
  resolveString(file: BicepFile, expr: string, depth = 0): string | undefined {
    if (depth > 40) return undefined;
    const e = unwrapParens(expr.trim());
    const parts = stringParts(e);
    if (parts) {
      let out = '';
      for (const part of parts) {
        if ('text' in part) out += part.text;
        else {
          const v = this.resolveString(file, part.expr, depth + 1);
          if (v === undefined) return undefined;
          out += v;
        }
      }
      return out;
    }
    if (/^-?\d+$/.test(e) || e === 'true' || e === 'false') return e;
    const stringCall = /^string\(([\s\S]+)\)$/.exec(e);
    if (stringCall) return this.resolveString(file, stringCall[1]!, depth + 1);
    const value = this.resolveSymbol(file, e, depth);
    return value === undefined ? undefined : this.resolveString(value.file, value.expr, depth + 1);
  }

  /** The items of an array expression, each resolved to a string, when knowable from the text. */
  resolveArray(file: BicepFile, expr: string, depth = 0): string[] | undefined {
    if (depth > 40) return undefined;
    const e = unwrapParens(expr.trim());
    if (e.startsWith('[')) {
      const items = arrayItems(e).map((item) => this.resolveString(file, item, depth + 1));
      return items.every((i): i is string => i !== undefined) ? items : undefined;
    }
    const concat = /^concat\(([\s\S]*)\)$/.exec(e);
    if (concat) {
      const args = splitArguments(concat[1]!);
      const arrays = args.map((a) => this.resolveArray(file, a, depth + 1));
      return arrays.every((a): a is string[] => a !== undefined) ? arrays.flat() : undefined;
    }
    const value = this.resolveSymbol(file, e, depth);
    return value === undefined ? undefined : this.resolveArray(value.file, value.expr, depth + 1);
  }

  /** Follows one identifier, X.outputs.Y, X.name or X[n] to the expression that defines it. */
  resolveSymbol(file: BicepFile, e: string, depth: number): { file: BicepFile; expr: string } | undefined {
    if (/^[A-Za-z_]\w*$/.test(e)) {
      const v = file.vars.find((d) => d.name === e);
      if (v) return { file, expr: v.value };
      const p = file.params.find((d) => d.name === e);
      if (p) {
        const passed = this.callsOf(file)
          .map((call) => ({ call, value: getProperty(call.decl.body, ['params', e]) }))
          .filter((x): x is { call: ModuleCall; value: string } => x.value !== undefined);
        if (passed.length === 1) return { file: passed[0]!.call.from, expr: passed[0]!.value };
        if (passed.length > 1) {
          const values = new Set(passed.map((x) => this.resolveString(x.call.from, x.value, depth + 1)));
          if (values.size === 1 && !values.has(undefined)) return { file: passed[0]!.call.from, expr: passed[0]!.value };
          return undefined;
        }
        return p.defaultValue !== undefined ? { file, expr: p.defaultValue } : undefined;
      }
      return undefined;
    }
    const output = /^([A-Za-z_]\w*)\.outputs\.([A-Za-z_]\w*)$/.exec(e);
    if (output) {
      const call = this.calls.find((c) => c.from === file && c.decl.symbol === output[1]);
      const target = call && this.files.get(call.target);
      const out = target?.outputs.find((o) => o.name === output[2]);
      return target && out ? { file: target, expr: out.value } : undefined;
    }
    const name = /^([A-Za-z_]\w*)\.name$/.exec(e);
    if (name) {
      const resource = file.resources.find((r) => r.symbol === name[1] && !r.loop);
      const nameExpr = resource && getProperty(resource.body, ['name']);
      return nameExpr ? { file, expr: nameExpr } : undefined;
    }
    const index = /^([A-Za-z_]\w*)\[(\d+)\]$/.exec(e);
    if (index) {
      const items = this.resolveArray(file, index[1]!, depth + 1);
      const item = items?.[Number(index[2])];
      return item === undefined ? undefined : { file, expr: `'${item.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` };
    }
    return undefined;
  }
}

function unwrapParens(e: string): string {
  let s = e;
  while (s.startsWith('(') && skipBalanced(s, 0) === s.length) s = s.slice(1, -1).trim();
  return s;
}
