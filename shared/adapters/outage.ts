// The one way an Azure SDK failure that means "cannot be reached right now" becomes
// DependencyUnavailableError (a 503 for HTTP callers, a retry for triggers), as opposed to a
// refused request, which is thrown as it is.
import { DependencyUnavailableError } from '../ports/errors.js';

/** True for failures that mean "the service cannot be reached", as opposed to a refused request. */
export function isUnavailable(error: unknown): boolean {
  const e = error as { statusCode?: number; code?: string; name?: string };
  if (typeof e?.statusCode === 'number') return e.statusCode >= 500 || e.statusCode === 408;
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'].includes(e?.code ?? '') ||
    e?.name === 'AbortError' ||
    e?.code === 'REQUEST_SEND_ERROR'
  );
}

/** True for failures where the request certainly never reached the service. */
export function neverSent(error: unknown): boolean {
  const code =
    (error as { code?: string; cause?: { code?: string } })?.code ?? (error as { cause?: { code?: string } })?.cause?.code;
  return ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code ?? '');
}

/** Runs a call to `dependency`; an outage (connection refused, timeouts, 5xx) becomes DependencyUnavailableError. */
export async function reportOutage<T>(
  dependency: DependencyUnavailableError['dependency'],
  what: string,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isUnavailable(error)) {
      throw new DependencyUnavailableError(dependency, `${what}: ${(error as Error).message}`, {
        cause: error,
        uncertain: !neverSent(error),
      });
    }
    throw error;
  }
}

/** A Table Storage call (see reportOutage). */
export const storageCall = <T>(what: string, run: () => Promise<T>): Promise<T> => reportOutage('storage', what, run);

/** A Storage queue call (see reportOutage). */
export const queueCall = <T>(what: string, run: () => Promise<T>): Promise<T> => reportOutage('queue', what, run);
