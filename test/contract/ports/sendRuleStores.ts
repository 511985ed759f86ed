// The frequency caps' ledger contract, run against the fake (test/unit) and the Table Storage
// adapter on Azurite (test/integration). Each test uses a number of its own, so suites can share
// one account.
import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseFrequencyCaps, type CapRequest, type FrequencyCaps } from '../../../shared/domain/frequencyCap.js';
import type { FrequencyCapLedger } from '../../../shared/ports/sendRules.js';

const capsOf = (text: string): FrequencyCaps => {
  const parsed = parseFrequencyCaps(text);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.caps;
};
const number = () => `+1425${String(randomInt(1_000_000, 9_999_999))}`;
const message = (to: string, i: number, day = '2026-11-25', category: CapRequest['category'] = 'marketing'): CapRequest => ({
  messageId: `m${to.slice(-7)}x${i}`,
  to,
  category,
  day,
  week: day <= '2026-11-29' ? '2026-W48' : '2026-W49',
});
const allowed = (verdicts: Map<string, { allowed: boolean }>) => [...verdicts.values()].filter((v) => v.allowed).length;

export function frequencyCapLedgerContract(name: string, make: () => Promise<FrequencyCapLedger>) {
  describe(`FrequencyCapLedger contract: ${name}`, () => {
    const caps = capsOf('marketing:3/day,5/week');
    const today = '2026-11-24';

    it('allows a day’s cap of a category, refuses the next with the cap it hit, and counts other categories apart', async () => {
      const ledger = await make();
      const to = number();
      for (let i = 0; i < 3; i++) expect(allowed(await ledger.count(caps, [message(to, i)], today))).toBe(1);
      const fourth = await ledger.count(caps, [message(to, 3)], today);
      expect(fourth.get(message(to, 3).messageId)).toEqual({ allowed: false, period: 'day', limit: 3 });
      // Transactional messages are not capped; another recipient has a count of its own.
      expect(allowed(await ledger.count(caps, [message(to, 4, '2026-11-25', 'transactional')], today))).toBe(1);
      expect(allowed(await ledger.count(caps, [message(number(), 0)], today))).toBe(1);
    });

    it('answers a message counted before as allowed without counting it again', async () => {
      const ledger = await make();
      const to = number();
      for (let i = 0; i < 3; i++) await ledger.count(caps, [message(to, i)], today);
      expect(allowed(await ledger.count(caps, [message(to, 0), message(to, 1), message(to, 2)], today))).toBe(3);
      expect(allowed(await ledger.count(caps, [message(to, 9)], today))).toBe(0);
    });

    it('counts days apart and the week across them; a released message frees its place', async () => {
      const ledger = await make();
      const to = number();
      for (let i = 0; i < 3; i++) await ledger.count(caps, [message(to, i, '2026-11-25')], today);
      expect(allowed(await ledger.count(caps, [message(to, 3, '2026-11-26'), message(to, 4, '2026-11-26')], today))).toBe(2);
      const sixth = await ledger.count(caps, [message(to, 5, '2026-11-27')], today);
      expect(sixth.get(message(to, 5, '2026-11-27').messageId)).toEqual({ allowed: false, period: 'week', limit: 5 });
      // The next week starts afresh.
      expect(allowed(await ledger.count(caps, [message(to, 6, '2026-11-30')], today))).toBe(1);
      await ledger.release([message(to, 4, '2026-11-26')]);
      expect(allowed(await ledger.count(caps, [message(to, 7, '2026-11-27')], today))).toBe(1);
      await ledger.release([message(to, 99)]); // never counted: nothing changes
    });

    it('never allows more than the cap to one recipient when many count at once', async () => {
      const ledger = await make();
      const to = number();
      const verdicts = await Promise.all(Array.from({ length: 8 }, (_, i) => ledger.count(caps, [message(to, i)], today)));
      expect(verdicts.map(allowed).reduce((a, b) => a + b, 0)).toBe(3);
    });
  });
}
