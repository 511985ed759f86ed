// Plays the part of the Functions worker's `@azure/functions-core` module, so that the app's own
// `app.http(...)`, `app.storageQueue(...)` … registrations are captured exactly as the real host
// receives them: name, binding metadata and the handler.
import Module from 'node:module';
import { pathToFileURL } from 'node:url';

export interface RegisteredBinding {
  type: string;
  direction: string;
  [setting: string]: unknown;
}

export interface RegisteredFunction {
  name: string;
  bindings: Record<string, RegisteredBinding>;
  /** The one binding whose type ends with "Trigger". */
  trigger: RegisteredBinding & { name: string };
  handler: (...args: unknown[]) => unknown;
  retry?: unknown;
}

export interface FunctionRegistry {
  functions: RegisteredFunction[];
}

let registry: FunctionRegistry | undefined;

/** Installs the shim (once per process) and returns the registry it fills. */
export function installFunctionsCore(): FunctionRegistry {
  if (registry) return registry;
  const state: FunctionRegistry = { functions: [] };
  const disposable = { dispose() {} };
  const core = {
    version: '4.0.0-local',
    registerFunction(
      metadata: { name: string; bindings: Record<string, RegisteredBinding>; retryOptions?: unknown },
      callback: (...args: unknown[]) => unknown,
    ) {
      const triggerEntry = Object.entries(metadata.bindings).find(([, b]) => /trigger$/i.test(b.type));
      if (!triggerEntry) throw new Error(`function ${metadata.name} has no trigger binding`);
      if (state.functions.some((f) => f.name === metadata.name)) throw new Error(`function ${metadata.name} is registered twice`);
      state.functions.push({
        name: metadata.name,
        bindings: metadata.bindings,
        trigger: { ...triggerEntry[1], name: triggerEntry[0] },
        handler: callback,
        ...(metadata.retryOptions ? { retry: metadata.retryOptions } : {}),
      });
      return disposable;
    },
    setProgrammingModel() {},
    getProgrammingModel() {
      return undefined;
    },
    registerHook() {
      return disposable;
    },
    log(level: string, category: string, message: string) {
      if (level === 'error' || level === 'critical') console.error(message);
    },
    get hostVersion() {
      return '4.0.0-local';
    },
    app: {},
  };

  // The library loads the module lazily with require('@azure/functions-core'); answer that request.
  const mod = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };
  const original = mod._load;
  mod._load = function load(request: string, parent: unknown, isMain: boolean) {
    if (request === '@azure/functions-core') return core;
    return original.call(this, request, parent, isMain);
  };
  registry = state;
  return state;
}

/** Imports the app's entry with the shim in place and returns what it registered. */
export async function captureRegistrations(
  entryModulePath: string,
  env: Record<string, string> = {},
): Promise<RegisteredFunction[]> {
  const state = installFunctionsCore();
  Object.assign(process.env, env);
  await import(pathToFileURL(entryModulePath).href);
  return state.functions;
}
