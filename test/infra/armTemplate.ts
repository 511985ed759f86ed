// Evaluates the ARM JSON the Bicep compiler wrote (npm run infra:check → dist/infra/*.json), so the
// infra tests read what Azure Resource Manager would deploy — every nested deployment, condition,
// loop and expression — instead of reading Bicep text. Values only Azure knows at deployment time
// (a resource's principalId, an endpoint) come back as Unknown placeholders naming their source;
// outputs of the template's own modules are evaluated for real. It implements the ARM template
// functions the compiled templates use, and fails loudly on any other, so a new construct is noticed.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const compiledDir = path.join(root, 'dist', 'infra');

/** A compiled template from dist/infra, e.g. 'main' or 'eventgrid-subscriptions'. */
export function loadCompiled(name: string): Template {
  const file = path.join(compiledDir, `${name}.json`);
  if (!existsSync(file)) {
    throw new Error(
      `${path.relative(root, file)} does not exist: run \`npm run infra:check\` first (\`npm run test:infra\` does).`,
    );
  }
  return JSON.parse(readFileSync(file, 'utf8')) as Template;
}

/** A value ARM only knows while deploying: its text says where it comes from. */
export class Unknown {
  constructor(readonly text: string) {}
  toString(): string {
    return `«${this.text}»`;
  }
}

export type Value = string | number | boolean | null | Unknown | Value[] | { [key: string]: Value } | Lambda;

interface Lambda {
  lambda: string[];
  body: Node;
}

export interface Template {
  $schema?: string;
  languageVersion?: string;
  metadata?: Record<string, unknown>;
  parameters?: Record<
    string,
    { type: string; defaultValue?: unknown; allowedValues?: unknown[]; metadata?: { description?: string }; [k: string]: unknown }
  >;
  variables?: Record<string, unknown>;
  resources: RawResource[];
  outputs?: Record<string, { type: string; value?: unknown; copy?: unknown; metadata?: { description?: string } }>;
}

interface RawResource {
  type: string;
  apiVersion: string;
  name: string;
  condition?: unknown;
  copy?: { name: string; count: unknown };
  scope?: string;
  subscriptionId?: string;
  resourceGroup?: string;
  location?: string;
  dependsOn?: string[];
  properties?: Record<string, unknown>;
  [key: string]: unknown;
}

/** One resource as it would be deployed. */
export interface Resource {
  type: string;
  apiVersion: string;
  name: string;
  id: string;
  /** For extension resources (role assignments, diagnostic settings): the id of the resource they apply to. */
  scope?: string;
  /** The module path, e.g. ['rbac'] (nested deployments by name). */
  module: string[];
  body: { [key: string]: Value };
  raw: RawResource;
}

export interface Deployment {
  name: string;
  template: Template;
  parameters: Record<string, Value>;
  scope: { subscriptionId: string; resourceGroup?: string };
  resources: Resource[];
  outputs: Record<string, Value>;
  children: Deployment[];
}

export interface EvaluateOptions {
  parameters?: Record<string, unknown>;
  subscriptionId?: string;
  resourceGroup?: string;
  deploymentName?: string;
  /** Answers list() calls, e.g. the app settings a site has now. */
  list?: (resourceId: string, apiVersion: string) => Value | undefined;
}

// ---------------------------------------------------------------- expressions

type Node =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'call'; name: string; args: Node[] }
  | { kind: 'member'; target: Node; property: string; optional?: boolean }
  | { kind: 'index'; target: Node; index: Node };

/** Parses the inside of "[...]". */
export function parseExpression(text: string): Node {
  let i = 0;
  const skip = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const expect = (c: string) => {
    skip();
    if (text[i] !== c) throw new Error(`expected "${c}" at ${i} in ${text}`);
    i++;
  };
  const primary = (): Node => {
    skip();
    const c = text[i]!;
    if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new Error(`unterminated string in ${text}`);
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i++];
      }
      return { kind: 'string', value };
    }
    if (/[-\d]/.test(c)) {
      const m = /^-?\d+(\.\d+)?/.exec(text.slice(i))!;
      i += m[0].length;
      return { kind: 'number', value: Number(m[0]) };
    }
    const m = /^[A-Za-z_][\w.]*/.exec(text.slice(i));
    if (!m) throw new Error(`unexpected "${c}" at ${i} in ${text}`);
    i += m[0].length;
    expect('(');
    const args: Node[] = [];
    skip();
    if (text[i] === ')') i++;
    else {
      for (;;) {
        args.push(postfix());
        skip();
        if (text[i] === ',') {
          i++;
          continue;
        }
        expect(')');
        break;
      }
    }
    return { kind: 'call', name: m[0].toLowerCase(), args };
  };
  const postfix = (): Node => {
    let node = primary();
    for (;;) {
      skip();
      if (text[i] === '.') {
        i++;
        const m = /^[A-Za-z_$][\w$]*/.exec(text.slice(i));
        if (!m) throw new Error(`expected a property at ${i} in ${text}`);
        i += m[0].length;
        node = { kind: 'member', target: node, property: m[0] };
      } else if (text[i] === '[') {
        i++;
        const index = postfix();
        expect(']');
        node = { kind: 'index', target: node, index };
      } else return node;
    }
  };
  const node = postfix();
  skip();
  if (i !== text.length) throw new Error(`unexpected "${text.slice(i)}" in ${text}`);
  return node;
}

/** A string value: an expression when it is "[...]" (and not "[[..."). */
function isExpression(value: string): boolean {
  return value.startsWith('[') && value.endsWith(']') && !value.startsWith('[[');
}

/** ARM's uniqueString: 13 characters from a hash of its arguments (a stand-in with the same shape). */
export function uniqueString(...parts: string[]): string {
  const hash = createHash('sha256').update(parts.join('|')).digest();
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let out = '';
  for (let k = 0; k < 13; k++) out += alphabet[hash[k]! % 32];
  return out;
}

/** ARM's guid(): a GUID from its arguments (deterministic; a stand-in with the same shape). */
export function guid(...parts: string[]): string {
  const h = createHash('sha1').update(parts.join('|')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

const text = (v: Value): string => (v instanceof Unknown ? v.toString() : typeof v === 'string' ? v : JSON.stringify(plain(v)));

/** A value without placeholders objects: Unknown becomes its «text». */
export function plain(v: Value): unknown {
  if (v instanceof Unknown) return v.toString();
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object' && !('lambda' in v && 'body' in v))
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x as Value)]));
  return v;
}

const isObject = (v: Value): v is { [key: string]: Value } =>
  !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Unknown) && !('lambda' in v && 'body' in v);

function resourceIdText(
  subscriptionId: string | undefined,
  resourceGroup: string | undefined,
  type: string,
  names: string[],
): string {
  const types = type.split('/');
  const provider = types[0]!;
  let id = subscriptionId ? `/subscriptions/${subscriptionId}` : '';
  if (resourceGroup) id += `/resourceGroups/${resourceGroup}`;
  id += `/providers/${provider}`;
  types.slice(1).forEach((t, k) => {
    id += `/${t}/${names[k] ?? ''}`;
  });
  return id;
}

interface Context {
  deployment: Deployment;
  options: EvaluateOptions;
  variables: Map<string, Value>;
  evaluatingVariables: Set<string>;
  copy: Map<string, number>;
  currentCopy?: string;
  lambdas: Map<string, Value>;
  /** Evaluates the nested deployment of this template with the given name, once. */
  child: (name: string) => Deployment | undefined;
}

function evaluateNode(node: Node, ctx: Context): Value {
  switch (node.kind) {
    case 'string':
      return node.value;
    case 'number':
      return node.value;
    case 'member': {
      const target = evaluateNode(node.target, ctx);
      if (target instanceof Unknown) return new Unknown(`${target.text}.${node.property}`);
      if (isObject(target)) {
        if (!(node.property in target))
          throw new Error(`no property "${node.property}" in ${JSON.stringify(plain(target)).slice(0, 200)}`);
        return target[node.property]!;
      }
      throw new Error(`cannot read "${node.property}" of ${text(target)}`);
    }
    case 'index': {
      const target = evaluateNode(node.target, ctx);
      const index = evaluateNode(node.index, ctx);
      if (target instanceof Unknown) return new Unknown(`${target.text}[${text(index)}]`);
      if (Array.isArray(target) && typeof index === 'number') {
        if (index < 0 || index >= target.length) throw new Error(`index ${index} out of range (${target.length})`);
        return target[index]!;
      }
      if (isObject(target) && typeof index === 'string') return target[index]!;
      throw new Error(`cannot index ${text(target)} with ${text(index)}`);
    }
    case 'call':
      return call(node, ctx);
  }
}

function call(node: Extract<Node, { kind: 'call' }>, ctx: Context): Value {
  const arg = (k: number) => evaluateNode(node.args[k]!, ctx);
  const args = () => node.args.map((a) => evaluateNode(a, ctx));
  const str = (v: Value) => {
    if (typeof v !== 'string') throw new Error(`${node.name}: expected a string, got ${text(v)}`);
    return v;
  };
  const anyUnknown = (vs: Value[]) => vs.find((v) => v instanceof Unknown) as Unknown | undefined;
  const d = ctx.deployment;
  switch (node.name) {
    case 'parameters': {
      const name = str(arg(0));
      if (!(name in d.parameters)) throw new Error(`parameters('${name}') has no value`);
      return d.parameters[name]!;
    }
    case 'variables':
      return variable(str(arg(0)), ctx);
    case 'if': {
      const c = arg(0);
      if (c instanceof Unknown) throw new Error(`if() on a value known only at deployment: ${c.text}`);
      return c ? arg(1) : arg(2);
    }
    case 'true':
      return true;
    case 'false':
      return false;
    case 'null':
      return null;
    case 'not': {
      const v = arg(0);
      return v instanceof Unknown ? new Unknown(`not(${v.text})`) : !v;
    }
    case 'and':
      return args().every(Boolean);
    case 'or':
      return args().some(Boolean);
    case 'equals': {
      const [a, b] = args();
      if (a instanceof Unknown || b instanceof Unknown)
        return text(a!) === text(b!) ? true : new Unknown(`equals(${text(a!)}, ${text(b!)})`);
      return JSON.stringify(plain(a!)) === JSON.stringify(plain(b!));
    }
    case 'empty': {
      const v = arg(0);
      if (v === null || v === '') return true;
      if (Array.isArray(v)) return v.length === 0;
      if (isObject(v)) return Object.keys(v).length === 0;
      return false;
    }
    case 'length': {
      const v = arg(0);
      if (Array.isArray(v) || typeof v === 'string') return v.length;
      if (isObject(v)) return Object.keys(v).length;
      throw new Error(`length of ${text(v)}`);
    }
    case 'format': {
      const [fmt, ...rest] = args();
      return str(fmt!).replace(/\{(\d+)(:[^}]*)?\}/g, (_, k: string) => text(rest[Number(k)]!));
    }
    case 'concat': {
      const vs = args();
      if (vs.every(Array.isArray)) return (vs as Value[][]).flat();
      return vs.map(text).join('');
    }
    case 'string': {
      const v = arg(0);
      if (v instanceof Unknown) return v;
      return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(plain(v));
    }
    case 'int':
      return Number(arg(0));
    case 'json':
      return JSON.parse(str(arg(0))) as Value;
    case 'tolower': {
      const v = arg(0);
      return v instanceof Unknown ? new Unknown(`toLower(${v.text})`) : str(v).toLowerCase();
    }
    case 'toupper':
      return str(arg(0)).toUpperCase();
    case 'take': {
      const [v, n] = args();
      if (v instanceof Unknown) return new Unknown(`take(${v.text}, ${n})`);
      return Array.isArray(v) ? v.slice(0, n as number) : str(v!).slice(0, n as number);
    }
    case 'replace': {
      const [v, a, b] = args();
      if (v instanceof Unknown) return new Unknown(`replace(${v.text}, ${text(a!)}, ${text(b!)})`);
      return str(v!).split(str(a!)).join(str(b!));
    }
    case 'split': {
      const [v, sep] = args();
      if (v instanceof Unknown) return new Unknown(`split(${v.text}, ${text(sep!)})`);
      return str(v!).split(str(sep!));
    }
    case 'join': {
      const [arr, sep] = args();
      return (arr as Value[]).map(text).join(str(sep!));
    }
    case 'contains': {
      const [c, v] = args();
      if (Array.isArray(c)) return c.some((x) => JSON.stringify(plain(x as Value)) === JSON.stringify(plain(v!)));
      if (c !== undefined && isObject(c)) return str(v!) in c;
      return str(c!).includes(str(v!));
    }
    case 'startswith':
      return str(arg(0)).startsWith(str(arg(1)));
    case 'endswith':
      return str(arg(0)).endsWith(str(arg(1)));
    case 'first': {
      const v = arg(0);
      return Array.isArray(v) ? v[0]! : str(v)[0]!;
    }
    case 'last': {
      const v = arg(0);
      return Array.isArray(v) ? v[v.length - 1]! : str(v).slice(-1);
    }
    case 'createobject': {
      const vs = args();
      const out: { [key: string]: Value } = {};
      for (let k = 0; k < vs.length; k += 2) out[str(vs[k]!)] = vs[k + 1]!;
      return out;
    }
    case 'createarray':
      return args();
    case 'union': {
      const vs = args();
      const unknown = anyUnknown(vs);
      if (unknown) return new Unknown(`union(${vs.map(text).join(', ')})`);
      if (vs.every(Array.isArray))
        return [...new Set((vs as Value[][]).flat().map((x) => JSON.stringify(plain(x))))].map((x) => JSON.parse(x) as Value);
      return Object.assign({}, ...(vs as object[])) as Value;
    }
    case 'coalesce': {
      for (const v of args()) if (v !== null && v !== undefined) return v;
      return null;
    }
    case 'trygetvalue':
    case 'tryget': {
      const [first, ...keys] = args();
      let v = first;
      for (const key of keys) {
        if (v instanceof Unknown) return new Unknown(`${v.text}.?${text(key)}`);
        if (v === null || v === undefined) return null;
        v = isObject(v) ? (v[str(key)] ?? null) : Array.isArray(v) ? (v[key as number] ?? null) : null;
      }
      return v ?? null;
    }
    case 'objectkeys':
      return Object.keys(arg(0) as object);
    case 'items': {
      const v = arg(0);
      if (!isObject(v)) throw new Error(`items() of ${text(v)}`);
      // ARM returns the entries sorted by key.
      return Object.keys(v)
        .sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' }))
        .map((key) => ({ key, value: v[key]! }));
    }
    case 'lambda': {
      const params = node.args.slice(0, -1).map((a) => (a.kind === 'string' ? a.value : ''));
      return { lambda: params, body: node.args[node.args.length - 1]! };
    }
    case 'lambdavariables': {
      const name = str(arg(0));
      if (!ctx.lambdas.has(name)) throw new Error(`lambdaVariables('${name}') outside its lambda`);
      return ctx.lambdas.get(name)!;
    }
    case 'map':
    case 'filter': {
      const arr = arg(0);
      const fn = arg(1) as unknown as Lambda;
      if (arr instanceof Unknown) return new Unknown(`${node.name}(${arr.text})`);
      const apply = (x: Value, k: number) => applyLambda(fn, [x, k], ctx);
      const list = arr as Value[];
      return node.name === 'map' ? list.map(apply) : list.filter((x, k) => apply(x, k) === true);
    }
    case 'toobject': {
      const arr = arg(0) as Value[];
      const keyFn = arg(1) as unknown as Lambda;
      const valueFn = node.args[2] ? (arg(2) as unknown as Lambda) : undefined;
      const out: { [key: string]: Value } = {};
      for (const x of arr) out[str(applyLambda(keyFn, [x], ctx))] = valueFn ? applyLambda(valueFn, [x], ctx) : x;
      return out;
    }
    case 'copyindex': {
      const a = node.args.map((x) => evaluateNode(x, ctx));
      const name = typeof a[0] === 'string' ? a[0] : ctx.currentCopy;
      const offset = typeof a[0] === 'number' ? a[0] : typeof a[1] === 'number' ? a[1] : 0;
      if (!name || !ctx.copy.has(name)) throw new Error('copyIndex() outside a copy loop');
      return ctx.copy.get(name)! + offset;
    }
    case 'uniquestring': {
      const vs = args();
      return uniqueString(...vs.map(text));
    }
    case 'guid':
      return guid(...args().map(text));
    case 'subscription':
      return { id: `/subscriptions/${d.scope.subscriptionId}`, subscriptionId: d.scope.subscriptionId, tenantId: 'tenant-id' };
    case 'tenant':
      return { tenantId: 'tenant-id' };
    case 'resourcegroup': {
      if (!d.scope.resourceGroup) throw new Error('resourceGroup() in a subscription deployment');
      return {
        id: `/subscriptions/${d.scope.subscriptionId}/resourceGroups/${d.scope.resourceGroup}`,
        name: d.scope.resourceGroup,
        location: 'rg-location',
      };
    }
    case 'deployment':
      return { name: d.name };
    case 'environment':
      return { suffixes: { storage: 'core.windows.net' } };
    case 'resourceid': {
      const vs = args().map(text);
      const typeAt = vs.findIndex((v) => /^[A-Za-z.]+\/[A-Za-z/]+$/.test(v) && v.includes('.'));
      const before = vs.slice(0, typeAt);
      const subscriptionId =
        before.length === 2 ? before[0] : before.length === 1 && !d.scope.resourceGroup ? before[0] : d.scope.subscriptionId;
      const resourceGroup =
        before.length === 2 ? before[1] : before.length === 1 && d.scope.resourceGroup ? before[0] : d.scope.resourceGroup;
      return resourceIdText(subscriptionId, resourceGroup, vs[typeAt]!, vs.slice(typeAt + 1));
    }
    case 'subscriptionresourceid': {
      const vs = args().map(text);
      const typeAt = vs.findIndex((v) => v.includes('/') && v.includes('.'));
      const subscriptionId = typeAt === 1 ? vs[0] : d.scope.subscriptionId;
      return resourceIdText(subscriptionId, undefined, vs[typeAt]!, vs.slice(typeAt + 1));
    }
    case 'extensionresourceid': {
      const [scopeId, type, ...names] = args().map(text);
      return `${scopeId}${resourceIdText(undefined, undefined, type!, names)}`;
    }
    case 'reference': {
      const [id, , full] = args();
      const idText = text(id!);
      const m = /\/providers\/Microsoft\.Resources\/deployments\/([^/]+)$/i.exec(idText);
      if (m) {
        const child = ctx.child(m[1]!);
        if (!child)
          throw new Error(`reference to deployment ${m[1]} that this template does not deploy (or whose condition is false)`);
        const outputs = Object.fromEntries(Object.entries(child.outputs).map(([k, v]) => [k, { value: v }]));
        return { outputs } as Value;
      }
      return new Unknown(`reference(${idText}${full === 'full' ? ', full' : ''})`);
    }
    case 'list': {
      const [id, api] = args();
      const answer = ctx.options.list?.(text(id!), text(api!));
      return answer ?? new Unknown(`list(${text(id!)})`);
    }
    default:
      throw new Error(`ARM function ${node.name}() is not implemented in test/infra/armTemplate.ts`);
  }
}

function applyLambda(fn: Lambda, values: Value[], ctx: Context): Value {
  const lambdas = new Map(ctx.lambdas);
  fn.lambda.forEach((name, k) => lambdas.set(name, values[k]!));
  return evaluateNode(fn.body, { ...ctx, lambdas });
}

function variable(name: string, ctx: Context): Value {
  if (ctx.variables.has(name)) return ctx.variables.get(name)!;
  const vars = ctx.deployment.template.variables ?? {};
  if (ctx.evaluatingVariables.has(name)) throw new Error(`variable ${name} depends on itself`);
  ctx.evaluatingVariables.add(name);
  let value: Value;
  const copies = (vars.copy ?? []) as Array<{ name: string; count: unknown; input: unknown }>;
  const loop = copies.find((c) => c.name === name);
  if (loop) {
    const count = evaluate(loop.count, ctx) as number;
    value = Array.from({ length: count }, (_, k) =>
      evaluate(loop.input, { ...ctx, copy: new Map(ctx.copy).set(name, k), currentCopy: name }),
    );
  } else {
    if (!(name in vars)) throw new Error(`variables('${name}') is not declared`);
    value = evaluate(vars[name], ctx);
  }
  ctx.evaluatingVariables.delete(name);
  ctx.variables.set(name, value);
  return value;
}

/** Evaluates a JSON value of the template: expressions in strings, property copy loops in objects. */
function evaluate(raw: unknown, ctx: Context): Value {
  if (typeof raw === 'string') {
    if (isExpression(raw)) return evaluateNode(parseExpression(raw.slice(1, -1)), ctx);
    return raw.startsWith('[[') ? raw.slice(1) : raw;
  }
  if (Array.isArray(raw)) return raw.map((x) => evaluate(x, ctx));
  if (raw && typeof raw === 'object') {
    const out: { [key: string]: Value } = {};
    for (const [key, value] of Object.entries(raw)) {
      if (key === 'copy' && Array.isArray(value)) {
        for (const loop of value as Array<{ name: string; count: unknown; input: unknown }>) {
          const count = evaluate(loop.count, ctx) as number;
          out[loop.name] = Array.from({ length: count }, (_, k) =>
            evaluate(loop.input, { ...ctx, copy: new Map(ctx.copy).set(loop.name, k), currentCopy: loop.name }),
          );
        }
      } else out[key] = evaluate(value, ctx);
    }
    return out;
  }
  return raw as Value;
}

/** Evaluates a template as ARM would deploy it with these parameters. */
export function evaluateTemplate(template: Template, options: EvaluateOptions = {}, modulePath: string[] = []): Deployment {
  const deployment: Deployment = {
    name: options.deploymentName ?? 'main',
    template,
    parameters: {},
    scope: {
      subscriptionId: options.subscriptionId ?? '00000000-0000-0000-0000-000000000000',
      ...(options.resourceGroup ? { resourceGroup: options.resourceGroup } : {}),
    },
    resources: [],
    outputs: {},
    children: [],
  };
  const childrenByName = new Map<string, Deployment | null>();
  const ctx: Context = {
    deployment,
    options,
    variables: new Map(),
    evaluatingVariables: new Set(),
    copy: new Map(),
    lambdas: new Map(),
    child: (name) => {
      if (!childrenByName.has(name)) evaluateResources(name);
      return childrenByName.get(name) ?? undefined;
    },
  };
  const given = options.parameters ?? {};
  const declared = template.parameters ?? {};
  for (const name of Object.keys(given))
    if (!(name in declared)) throw new Error(`parameter ${name} is not declared by the template`);
  for (const name of Object.keys(declared)) {
    if (name in given) deployment.parameters[name] = given[name] as Value;
  }
  for (const [name, p] of Object.entries(declared)) {
    if (name in deployment.parameters) continue;
    if (p.defaultValue === undefined) throw new Error(`parameter ${name} has no value and no default`);
    deployment.parameters[name] = evaluate(p.defaultValue, ctx);
  }
  for (const [name, p] of Object.entries(declared)) {
    const v = deployment.parameters[name]!;
    if (
      p.allowedValues &&
      !(v instanceof Unknown) &&
      !p.allowedValues.some((a) => JSON.stringify(a) === JSON.stringify(plain(v)))
    ) {
      throw new Error(`parameter ${name}: ${JSON.stringify(plain(v))} is not one of its allowed values`);
    }
  }

  const done = new Set<RawResource>();
  // Evaluates resources in order; a nested deployment is evaluated when first referenced, or in turn.
  function evaluateResources(onlyDeploymentName?: string): void {
    for (const raw of template.resources) {
      if (done.has(raw)) continue;
      if (onlyDeploymentName !== undefined) {
        if (raw.type !== 'Microsoft.Resources/deployments') continue;
        const name = evaluate(raw.name, ctx);
        if (name !== onlyDeploymentName) continue;
      }
      done.add(raw);
      const iterations = raw.copy ? (evaluate(raw.copy.count, ctx) as number) : 1;
      for (let k = 0; k < iterations; k++) {
        const loopCtx: Context = raw.copy
          ? { ...ctx, copy: new Map(ctx.copy).set(raw.copy.name, k), currentCopy: raw.copy.name }
          : ctx;
        const condition = raw.condition === undefined ? true : evaluate(raw.condition, loopCtx);
        if (condition instanceof Unknown) throw new Error(`condition known only at deployment: ${condition.text}`);
        const name = text(evaluate(raw.name, loopCtx));
        if (!condition) {
          if (raw.type === 'Microsoft.Resources/deployments') childrenByName.set(name, null);
          continue;
        }
        // A nested deployment's template is evaluated in its own scope, not here.
        const own = Object.fromEntries(Object.entries(raw).filter(([key]) => !['copy', 'condition', 'dependsOn'].includes(key)));
        if (raw.type === 'Microsoft.Resources/deployments') own.properties = { ...raw.properties, template: {} };
        const body = evaluate(own, loopCtx) as { [key: string]: Value };
        const scope = body.scope !== undefined ? text(body.scope) : undefined;
        const subscriptionId = body.subscriptionId !== undefined ? text(body.subscriptionId) : deployment.scope.subscriptionId;
        const resourceGroup = body.resourceGroup !== undefined ? text(body.resourceGroup) : deployment.scope.resourceGroup;
        const names = name.split('/');
        const id = scope
          ? `${scope}${resourceIdText(undefined, undefined, raw.type, names)}`
          : resourceIdText(
              subscriptionId,
              raw.type === 'Microsoft.Resources/resourceGroups' ? undefined : resourceGroup,
              raw.type,
              names,
            );
        deployment.resources.push({
          type: raw.type,
          apiVersion: raw.apiVersion,
          name,
          id,
          ...(scope ? { scope } : {}),
          module: modulePath,
          body,
          raw,
        });
        if (raw.type === 'Microsoft.Resources/deployments') {
          const props = body.properties as { [key: string]: Value };
          const params = (props.parameters ?? {}) as { [key: string]: { value: Value } };
          const child = evaluateTemplate(
            (raw.properties as { template: Template }).template,
            {
              ...options,
              deploymentName: name,
              subscriptionId,
              ...(resourceGroup ? { resourceGroup } : {}),
              parameters: Object.fromEntries(Object.entries(params).map(([key, v]) => [key, v.value])),
            },
            [...modulePath, name],
          );
          deployment.children.push(child);
          childrenByName.set(name, child);
        }
      }
    }
  }
  evaluateResources();
  for (const [name, output] of Object.entries(template.outputs ?? {})) deployment.outputs[name] = evaluate(output.value, ctx);
  return deployment;
}

/** Every resource of a deployment and its nested deployments. */
export function allResources(d: Deployment): Resource[] {
  return [...d.resources, ...d.children.flatMap(allResources)];
}

/** The nested deployment at a module path, e.g. ['api', 'api-appsettings']. */
export function findDeployment(d: Deployment, predicate: (child: Deployment) => boolean): Deployment | undefined {
  if (predicate(d)) return d;
  for (const child of d.children) {
    const found = findDeployment(child, predicate);
    if (found) return found;
  }
  return undefined;
}

/** The parameters azd would pass for an environment, from main.parameters.json (azure-dev bicep_provider.go loadParameters). */
export function azdParameters(env: Record<string, string>, template: Template): Record<string, unknown> {
  const file = JSON.parse(readFileSync(path.join(root, 'infra', 'main.parameters.json'), 'utf8')) as {
    parameters: Record<string, { value: unknown }>;
  };
  const out: Record<string, unknown> = {};
  for (const [name, { value }] of Object.entries(file.parameters)) {
    if (typeof value !== 'string') {
      out[name] = value;
      continue;
    }
    let unset = false;
    const replaced = value.replace(/\$\{(\w+)(?:=([^}]*))?\}/g, (_, v: string, fallback?: string) => {
      if (env[v] !== undefined) return env[v];
      if (fallback !== undefined) return fallback;
      unset = true;
      return '';
    });
    // An env var that is not set leaves the parameter out, so its default applies.
    if (replaced === '' && unset) continue;
    const type = template.parameters?.[name]?.type.toLowerCase();
    if (type === 'array' || type === 'object') out[name] = JSON.parse(replaced);
    else if (type === 'int') out[name] = Number(replaced);
    else if (type === 'bool') out[name] = replaced === 'true';
    else out[name] = replaced;
  }
  return out;
}
