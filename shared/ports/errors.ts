// The errors ports may raise, and what a caller should make of each.

/** A conditional write lost a race: someone changed the record since it was read. */
export class ConcurrencyError extends Error {
  constructor(message = 'the record changed since it was read') {
    super(message);
    this.name = 'ConcurrencyError';
  }
}

/** A dependency (storage, queue, ACS) cannot be reached; the caller may retry later. */
export class DependencyUnavailableError extends Error {
  /**
   * True when the call may have taken effect all the same (a timeout, a reset connection, a 5xx);
   * false when it certainly did not (the connection was refused, the name did not resolve).
   */
  readonly uncertain: boolean;

  constructor(
    readonly dependency: 'storage' | 'queue' | 'acs' | 'eventgrid',
    message: string,
    options?: { cause?: unknown; uncertain?: boolean },
  ) {
    super(message, options);
    this.name = 'DependencyUnavailableError';
    this.uncertain = options?.uncertain ?? true;
  }
}

/**
 * A submit stopped before it was accepted, but after a write that may have taken effect: its batch
 * may exist. The app is told the batch id, so it can look before sending again.
 */
export class SubmitInterruptedError extends DependencyUnavailableError {
  constructor(
    readonly batchId: string,
    cause: DependencyUnavailableError,
  ) {
    super(cause.dependency, cause.message, { cause, uncertain: true });
    this.name = 'SubmitInterruptedError';
  }
}

/** A continuation token that this store did not issue (or that belongs to another listing). */
export class InvalidContinuationTokenError extends Error {
  constructor(message = 'is not a continuation token of this listing') {
    super(message);
    this.name = 'InvalidContinuationTokenError';
  }
}
