// Invoking a registered function as the Functions worker does: an InvocationContext of the
// @azure/functions library, the handler's outcome logged as the host logs it, binding
// expressions and the AzureWebJobs.<name>.Disabled switch.
import { randomBytes, randomUUID } from 'node:crypto';
import type { InvocationContext as InvocationContextType } from '@azure/functions';
import type { RegisteredFunction } from './functionsCore.js';

export type Log = (line: string) => void;

/** Resolves %NAME% app-setting expressions, as the host does in binding settings. */
export function resolveSettings(value: string): string {
  return value.replace(/%([^%]+)%/g, (_, name: string) => {
    const v = process.env[name];
    if (v === undefined) throw new Error(`the binding expression %${name}% refers to a setting that is not set`);
    return v;
  });
}

/** True when AzureWebJobs.<name>.Disabled (or AzureWebJobs__<name>__Disabled) is set. */
export function isDisabled(name: string): boolean {
  const v = process.env[`AzureWebJobs.${name}.Disabled`] ?? process.env[`AzureWebJobs__${name}__Disabled`];
  return v === 'true' || v === '1';
}

// @azure/functions is loaded only after the functions-core shim is installed (see captureRegistrations):
// loaded earlier, it would settle into its "test mode" and register nothing.
export type FunctionsLib = typeof import('@azure/functions');
let lib: FunctionsLib | undefined;

/** Loads @azure/functions once the shim is installed; call before any other export here. */
export async function loadFunctionsLib(): Promise<FunctionsLib> {
  // CommonJS: its classes are reachable through the default export only.
  lib ??= ((await import('@azure/functions')) as unknown as { default: FunctionsLib }).default;
  return lib;
}

export function functionsLib(): FunctionsLib {
  if (!lib) throw new Error('@azure/functions is not loaded yet (loadFunctionsLib)');
  return lib;
}

/**
 * The W3C trace context the host gives an invocation (InvocationContext.traceContext): that of the
 * invocation's own span, a child of the caller's `traceparent` when an HTTP request brought a valid
 * one, else the root of a new trace. The real host also exports that span (as an Application
 * Insights request); this one only names it, which is all the app's spans need to hang under it.
 */
export function invocationTraceContext(incoming?: { traceparent?: string; tracestate?: string }): {
  traceParent: string;
  traceState?: string;
} {
  const parent = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(incoming?.traceparent?.trim().toLowerCase() ?? '');
  const valid = parent && !/^0+$/.test(parent[1]!) && !/^0+$/.test(parent[2]!);
  const traceId = valid ? parent[1]! : randomBytes(16).toString('hex');
  return {
    traceParent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
    ...(valid && incoming?.tracestate ? { traceState: incoming.tracestate } : {}),
  };
}

export function context(
  fn: RegisteredFunction,
  log: Log,
  extra: Partial<NonNullable<ConstructorParameters<typeof InvocationContextType>[0]>> = {},
) {
  return new (functionsLib().InvocationContext)({
    invocationId: randomUUID(),
    functionName: fn.name,
    options: { trigger: fn.trigger, extraInputs: [], extraOutputs: [] },
    traceContext: invocationTraceContext(),
    logHandler: (level, ...args) =>
      log(`${fn.name} [${level}] ${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}`),
    ...extra,
  });
}

export async function invoke(fn: RegisteredFunction, log: Log, args: unknown[], ctx: InvocationContextType): Promise<unknown> {
  const started = Date.now();
  try {
    const result = await fn.handler(...args, ctx);
    log(`Executed '${fn.name}' (Succeeded, ${Date.now() - started} ms)`);
    return result;
  } catch (error) {
    log(`Executed '${fn.name}' (Failed, ${Date.now() - started} ms): ${(error as Error)?.stack ?? String(error)}`);
    throw error;
  }
}
