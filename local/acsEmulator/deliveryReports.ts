// Delivery report timing: each report becomes visible (GET /deliveryReports, SMSDeliveryReportReceived)
// after a delay, some late, some twice, some released in shuffled groups, as configured.
import { deliveryReportEvent } from './events.js';
import type { EventGridDelivery } from './eventDelivery.js';
import { instant } from './forms.js';
import type { SeededRandom } from './seededRandom.js';
import type { DeliveryReportSettings, FormSettings } from './settings.js';
import type { EmulatorState, StoredReport } from './state.js';
import type { WorkTracker } from './workTracker.js';

interface PendingReport {
  report: StoredReport;
  /** Whether the send asked for a delivery report event (enableDeliveryReport). */
  publish: boolean;
}

export class DeliveryReportScheduler {
  private buffer: PendingReport[] = [];
  private bufferId = 0;
  private bufferEnd: (() => void) | undefined;

  constructor(
    private readonly deps: {
      settings: () => DeliveryReportSettings;
      forms: () => FormSettings;
      topic: () => string;
      state: EmulatorState;
      delivery: EventGridDelivery;
      work: WorkTracker;
      rng: SeededRandom;
      log: (line: string) => void;
    },
  ) {}

  schedule(report: StoredReport, publish: boolean): void {
    const s = this.deps.settings();
    const late = this.deps.rng.chance(s.lateShare);
    this.deps.work.schedule(() => this.release({ report, publish }), s.delayMs + (late ? s.lateDelayMs : 0));
  }

  /** Forgets buffered reports (the WorkTracker drops their timers). */
  reset(): void {
    this.buffer = [];
    this.bufferId++;
    this.bufferEnd = undefined;
  }

  private release(item: PendingReport): void {
    const s = this.deps.settings();
    if (s.shuffleWindow <= 1 && this.buffer.length === 0) {
      this.emit(item);
      return;
    }
    this.buffer.push(item);
    if (this.buffer.length === 1) {
      this.bufferEnd = this.deps.work.begin();
      const id = this.bufferId;
      this.deps.work.schedule(() => {
        if (id === this.bufferId) this.flush();
      }, s.shuffleWindowMs);
    }
    if (this.buffer.length >= s.shuffleWindow) this.flush();
  }

  private flush(): void {
    const items = this.deps.rng.shuffle(this.buffer);
    this.buffer = [];
    this.bufferId++;
    const end = this.bufferEnd;
    this.bufferEnd = undefined;
    for (const item of items) this.emit(item);
    end?.();
  }

  private emit({ report, publish }: PendingReport): void {
    const s = this.deps.settings();
    report.receivedAt = instant();
    this.deps.state.storeReport(report);
    if (!publish || !s.enabled) return;
    const event = deliveryReportEvent(report, this.deps.topic(), this.deps.forms());
    this.deps.delivery.publish(event);
    // Event Grid delivers at least once: a duplicate carries the same event id.
    if (this.deps.rng.chance(s.duplicateShare)) this.deps.delivery.publish(event);
  }
}
