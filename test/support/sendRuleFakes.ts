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
import type { FrequencyCapLedger } from '../../shared/ports/sendRules.js';

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
