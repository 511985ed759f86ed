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
  constructor(
    readonly dependency: 'storage' | 'queue' | 'acs' | 'eventgrid',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DependencyUnavailableError';
  }
}

/** A continuation token that this store did not issue (or that belongs to another listing). */
export class InvalidContinuationTokenError extends Error {
  constructor(message = 'is not a continuation token of this listing') {
    super(message);
    this.name = 'InvalidContinuationTokenError';
  }
}
