// The frequency caps' ledger in memory, for unit tests (its contract suite runs against it and the
// Table Storage adapter: test/contract/ports/sendRuleStores.ts). Decisions are the domain's
// countMessage, so the fake and the adapter differ only in where the counts live.
import {
  countMessage,
  uncountMessage,
  type CapCount,
  type CapRequest,
  type CapVerdict,
  type FrequencyCaps,
} from '../../shared/domain/frequencyCap.js';
import type { ThreadEntry } from '../../shared/domain/conversation.js';
import type { MessageRecord } from '../../shared/domain/message.js';
import { retentionDay, type RetentionStage } from '../../shared/domain/retention.js';
import type { FrequencyCapLedger, RetentionStore } from '../../shared/ports/sendRules.js';

export class FakeFrequencyCapLedger implements FrequencyCapLedger {
  readonly counts = new Map<string, CapCount>();

  async count(caps: FrequencyCaps, requests: readonly CapRequest[], today: string): Promise<Map<string, CapVerdict>> {
    const verdicts = new Map<string, CapVerdict>();
    for (const r of requests) {
      const limits = caps.get(r.category);
      if (!limits) {
        verdicts.set(r.messageId, { allowed: true });
        continue;
      }
      const key = `${r.to}|${r.category}`;
      const decided = countMessage(limits, this.counts.get(key), r, today);
      if (decided.count) this.counts.set(key, decided.count);
      verdicts.set(r.messageId, decided.verdict);
    }
    return verdicts;
  }

  async release(requests: readonly CapRequest[]): Promise<void> {
    for (const r of requests) {
      const key = `${r.to}|${r.category}`;
      const before = this.counts.get(key);
      const after = before && uncountMessage(before, r.messageId);
      if (after) this.counts.set(key, after);
    }
  }
}

/**
 * Retention over the fake stores' rows (in memory, so it may look at every row; the Table adapter
 * works through its day index instead: test/integration/retention.test.ts).
 */
export class FakeRetentionStore implements RetentionStore {
  readonly done = new Set<string>();

  constructor(
    private readonly messages: { rows: Map<string, MessageRecord> },
    private readonly conversations: { entries: Map<string, ThreadEntry> },
  ) {}

  async doneDays(stage: RetentionStage, days: readonly string[]): Promise<Set<string>> {
    return new Set(days.filter((d) => this.done.has(`${stage}|${d}`)));
  }

  async apply(stage: RetentionStage, day: string, now: Date): Promise<number> {
    let changed = 0;
    if (stage === 'conversations') {
      for (const [key, e] of this.conversations.entries)
        if (retentionDay(e.at) === day && this.conversations.entries.delete(key)) changed++;
    } else {
      for (const [key, r] of this.messages.rows) {
        if (retentionDay(r.createdAt) !== day) continue;
        if (stage === 'records') {
          this.messages.rows.delete(key);
          changed++;
        } else if (r.body !== '') {
          this.messages.rows.set(key, { ...r, body: '', textErasedAt: now.toISOString() });
          changed++;
        }
      }
    }
    this.done.add(`${stage}|${day}`);
    return changed;
  }
}
