// Tracks the emulator's background work (scheduled delivery reports, event deliveries and their
// retries) so idle() can wait for it and reset()/close() can cancel it without leaving timers.

export class WorkTracker {
  private pending = 0;
  private generation = 0;
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private waiters: Array<() => void> = [];

  /** Marks a unit of work as started; call the returned function (once) when it ends. */
  begin(): () => void {
    const generation = this.generation;
    this.pending++;
    let done = false;
    return () => {
      if (done || generation !== this.generation) return;
      done = true;
      this.pending--;
      this.settle();
    };
  }

  /** A timer that counts as pending work until its callback has run. */
  schedule(fn: () => void, ms: number): void {
    const end = this.begin();
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        try {
          fn();
        } finally {
          end();
        }
      },
      Math.max(0, ms),
    );
    this.timers.set(timer, end);
  }

  get count(): number {
    return this.pending;
  }

  /** Resolves when nothing is pending (at once if nothing is). */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Drops every timer and forgets in-flight work, so idle() resolves now. */
  cancelAll(): void {
    for (const timer of this.timers.keys()) clearTimeout(timer);
    this.timers.clear();
    this.generation++;
    this.pending = 0;
    this.settle();
  }

  private settle(): void {
    if (this.pending !== 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
