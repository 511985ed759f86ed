// The OptOutStore and ConsentLog contracts: what the consent path relies on, run against the fakes
// (test/unit) and the Table Storage adapters on Azurite (test/integration).
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ConsentLogEntry } from '../../../shared/domain/consent.js';
import type { ConsentLog, OptOutStore } from '../../../shared/ports/consent.js';
import { ConcurrencyError, InvalidContinuationTokenError } from '../../../shared/ports/errors.js';

/** A number no other test uses. */
export const freshNumber = () => `+1425${String(1_000_000 + (randomBytes(3).readUIntBE(0, 3) % 9_000_000)).padStart(7, '0')}`;

export function optOutStoreContract(name: string, make: () => Promise<OptOutStore>) {
  describe(`OptOutStore contract: ${name}`, () => {
    it('answers which recipients are opted out of a sender or of the whole pool', async () => {
      const store = await make();
      const [a, b, c] = [freshNumber(), freshNumber(), freshNumber()];
      await store.add({
        sender: '+18005550100',
        recipient: a,
        source: 'keyword',
        keyword: 'STOP',
        at: '2026-11-25T10:00:00.000Z',
      });
      await store.add({ sender: '*', recipient: b, source: 'api', reason: 'asked by phone', at: '2026-11-25T10:00:00.000Z' });
      expect(await store.optedOut('+18005550100', [a, b, c])).toEqual(new Set([a, b]));
      expect(await store.optedOut('+18005550101', [a, b, c])).toEqual(new Set([b]));
      expect(await store.find(a, ['+18005550100', '*'])).toEqual([
        { sender: '+18005550100', recipient: a, source: 'keyword', keyword: 'STOP', at: '2026-11-25T10:00:00.000Z' },
      ]);
    });

    it('adds and removes idempotently', async () => {
      const store = await make();
      const a = freshNumber();
      const change = { sender: '+18005550100', recipient: a, source: 'api' as const, at: '2026-11-25T10:00:00.000Z' };
      await store.add(change);
      await store.add(change);
      expect((await store.find(a, ['+18005550100'])).length).toBe(1);
      await store.remove(change);
      await store.remove(change);
      expect(await store.optedOut('+18005550100', [a])).toEqual(new Set());
    });

    it('lists in (sender, recipient) order a page at a time, and refuses a token it did not issue', async () => {
      const store = await make();
      const sender = `+1800555${String(1000 + (randomBytes(2).readUInt16BE(0) % 9000))}`;
      const numbers = [freshNumber(), freshNumber(), freshNumber()].sort();
      for (const n of numbers) await store.add({ sender, recipient: n, source: 'api', at: '2026-11-25T10:00:00.000Z' });
      const seen: string[] = [];
      let token: string | undefined;
      do {
        const page = await store.list({ sender, limit: 2, ...(token ? { continuationToken: token } : {}) });
        seen.push(...page.items.map((e) => e.recipient));
        token = page.continuationToken;
      } while (token);
      expect(seen).toEqual(numbers);
      await expect(store.list({ sender, limit: 2, continuationToken: 'not-a-token' })).rejects.toBeInstanceOf(
        InvalidContinuationTokenError,
      );
    });
  });
}

export function consentLogContract(name: string, make: () => Promise<ConsentLog>) {
  describe(`ConsentLog contract: ${name}`, () => {
    const entry = (recipient: string, id: string, at: string): ConsentLogEntry => ({
      id,
      action: 'optOut',
      sender: '+18005550100',
      recipient,
      source: 'keyword',
      keyword: 'STOP',
      at,
      applied: true,
    });

    it("keeps a person's log oldest first, an id once, a page at a time", async () => {
      const log = await make();
      const person = freshNumber();
      await log.append(entry(person, 'b', '2026-11-25T10:00:02.000Z'));
      await log.append(entry(person, 'a', '2026-11-25T10:00:01.000Z'));
      await log.append(entry(person, 'a', '2026-11-25T10:00:01.000Z'));
      await log.append(entry(person, 'c', '2026-11-25T10:00:03.000Z'));
      const first = await log.history(person, { limit: 2 });
      expect(first.items.map((e) => e.id)).toEqual(['a', 'b']);
      expect(first.continuationToken).toBeDefined();
      const second = await log.history(person, { limit: 2, continuationToken: first.continuationToken! });
      expect(second.items.map((e) => e.id)).toEqual(['c']);
      expect(second.continuationToken).toBeUndefined();
    });

    it('writes the latest state conditionally: a stale etag loses', async () => {
      const log = await make();
      const person = freshNumber();
      expect(await log.state(person, '*')).toBeUndefined();
      const state = { at: '2026-11-25T10:00:00.000Z', optedOut: true, changeId: 'x' };
      await log.saveState(person, '*', state);
      const read = (await log.state(person, '*'))!;
      expect(read).toMatchObject({ optedOut: true, changeId: 'x' });
      await log.saveState(person, '*', { ...read, changeId: 'y' });
      await expect(log.saveState(person, '*', { ...read, changeId: 'z' })).rejects.toBeInstanceOf(ConcurrencyError);
      await expect(log.saveState(person, '*', { at: read.at, optedOut: false, changeId: 'w' })).rejects.toBeInstanceOf(
        ConcurrencyError,
      );
      expect((await log.state(person, '*'))?.changeId).toBe('y');
    });
  });
}
