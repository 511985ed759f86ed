// The ConversationStore, DeadLetterStore, DeliveryTracker and IdempotencyStore contracts, run
// against the fakes (test/unit) and the Table Storage adapters on Azurite (test/integration).
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ThreadEntry } from '../../../shared/domain/conversation.js';
import type { ConversationStore } from '../../../shared/ports/conversations.js';
import type { DeadLetterStore } from '../../../shared/ports/deadLetters.js';
import { ConcurrencyError } from '../../../shared/ports/errors.js';
import type { IdempotencyStore } from '../../../shared/ports/idempotency.js';
import type { DeliveryTracker } from '../../../shared/ports/tracking.js';
import { freshNumber } from './consentStores.js';

export function conversationStoreContract(name: string, make: () => Promise<ConversationStore>) {
  describe(`ConversationStore contract: ${name}`, () => {
    const outbound = (ours: string, theirs: string, at: string, messageId: string): ThreadEntry => ({
      ourNumber: ours,
      theirNumber: theirs,
      direction: 'outbound',
      at,
      body: `sent ${messageId}`,
      messageId,
      batchId: messageId.split('-')[0]!,
    });

    it('keeps a thread newest first, a page at a time; the same message is one entry', async () => {
      const store = await make();
      const [ours, theirs] = ['+18005550100', freshNumber()];
      await store.recordOutbound([outbound(ours, theirs, '2026-11-25T10:00:00.000Z', 'b1-000')]);
      await store.recordOutbound([outbound(ours, theirs, '2026-11-25T10:00:00.000Z', 'b1-000')]);
      await store.saveInbound({
        ourNumber: ours,
        theirNumber: theirs,
        direction: 'inbound',
        at: '2026-11-25T10:01:00.000Z',
        body: 'Yes',
        inboundMessageId: 'in-1',
        keyword: null,
      });
      await store.recordOutbound([outbound(ours, theirs, '2026-11-25T10:02:00.000Z', 'b2-000')]);
      const first = await store.thread(ours, theirs, { limit: 2 });
      expect(first.items.map((e) => e.messageId ?? e.inboundMessageId)).toEqual(['b2-000', 'in-1']);
      const rest = await store.thread(ours, theirs, { limit: 2, continuationToken: first.continuationToken! });
      expect(rest.items.map((e) => e.messageId)).toEqual(['b1-000']);
      expect(rest.continuationToken).toBeUndefined();
    });

    it('finds an inbound entry again, the last outbound before a time, and erases a person', async () => {
      const store = await make();
      const [ours, theirs] = ['+18005550101', freshNumber()];
      await store.recordOutbound([
        {
          ...outbound(ours, theirs, '2026-11-25T09:00:00.000Z', 'c1-000'),
          tag: 'reminders',
          template: 'appointment-reminder@3',
          app: 'app-booking',
        },
        outbound(ours, theirs, '2026-11-25T11:00:00.000Z', 'c2-000'),
      ]);
      await store.saveInbound({
        ourNumber: ours,
        theirNumber: theirs,
        direction: 'inbound',
        at: '2026-11-25T10:00:00.000Z',
        body: 'STOP',
        inboundMessageId: 'in-2',
        keyword: 'optOut',
        processed: false,
        app: 'app-booking',
      });
      expect(await store.getInbound(ours, theirs, '2026-11-25T10:00:00.000Z', 'in-2')).toMatchObject({
        app: 'app-booking',
        body: 'STOP',
        keyword: 'optOut',
        processed: false,
      });
      expect(await store.getInbound(ours, theirs, '2026-11-25T10:00:00.000Z', 'in-x')).toBeUndefined();
      // With its campaign, template and app: what a reply to it is counted under, and whose it is.
      expect(await store.lastOutbound(ours, theirs, '2026-11-25T10:00:00.000Z')).toMatchObject({
        messageId: 'c1-000',
        app: 'app-booking',
        tag: 'reminders',
        template: 'appointment-reminder@3',
      });
      expect(await store.eraseThreads(theirs, [ours])).toBe(3);
      expect((await store.thread(ours, theirs, { limit: 10 })).items).toEqual([]);
    });
  });
}

export function deadLetterStoreContract(name: string, make: () => Promise<DeadLetterStore>) {
  describe(`DeadLetterStore contract: ${name}`, () => {
    it('keeps letters with their reason, newest first, until removed', async () => {
      const store = await make();
      const first = await store.add({ reason: 'invalid send job: first', body: '{"a":1}', batchId: 'b1' });
      await new Promise((r) => setTimeout(r, 5));
      const second = await store.add({ reason: 'gave up after 8 attempts', body: '{"b":2}', jobId: 'b2.0', batchId: 'b2' });
      expect(first.id).not.toBe(second.id);
      const listed = await store.list({ limit: 100 });
      const mine = listed.filter((l) => l.id === first.id || l.id === second.id);
      expect(mine.map((l) => l.reason)).toEqual(['gave up after 8 attempts', 'invalid send job: first']);
      expect(mine[0]).toMatchObject({ body: '{"b":2}', jobId: 'b2.0', batchId: 'b2' });
      await store.remove(first.id);
      await store.remove(first.id);
      expect((await store.list({ limit: 100 })).some((l) => l.id === first.id)).toBe(false);
    });
  });
}

export function deliveryTrackerContract(name: string, make: () => Promise<DeliveryTracker>) {
  describe(`DeliveryTracker contract: ${name}`, () => {
    it('hands out messages due for a look, oldest first; rescheduled and untracked ones leave', async () => {
      const tracker = await make();
      const id = () => `${randomUUID().replace(/-/g, '').slice(0, 22)}-000`;
      const [a, b, c] = [id(), id(), id()];
      await tracker.track([a, b], new Date('2026-11-25T10:00:00Z'));
      await tracker.track([c], new Date('2026-11-25T12:00:00Z'));
      const due = (await tracker.due(new Date('2026-11-25T11:00:00Z'), new Date('2026-11-25T11:00:00Z'), 1000)).filter((t) =>
        [a, b, c].includes(t.messageId),
      );
      expect(due.map((t) => t.messageId).sort()).toEqual([a, b].sort());
      await tracker.reschedule(
        due.find((t) => t.messageId === a)!,
        new Date('2026-11-25T13:00:00Z'),
      );
      await tracker.untrack(due.filter((t) => t.messageId === b));
      const later = (await tracker.due(new Date('2026-11-25T12:30:00Z'), new Date('2026-11-25T12:30:00Z'), 1000)).filter((t) =>
        [a, b, c].includes(t.messageId),
      );
      expect(later.map((t) => t.messageId)).toEqual([c]);
    });

    it('parks reports and gives them back until unparked', async () => {
      const tracker = await make();
      const marker = randomUUID();
      await tracker.park({ id: marker, data: { messageId: 'x' } }, new Date('2026-11-25T10:00:00Z'));
      const parked = (await tracker.parked(1000)).filter((p) => (p.event as { id?: string }).id === marker);
      expect(parked).toHaveLength(1);
      expect(parked[0]!.event).toEqual({ id: marker, data: { messageId: 'x' } });
      await tracker.unpark(parked);
      expect((await tracker.parked(1000)).some((p) => (p.event as { id?: string }).id === marker)).toBe(false);
    });
  });
}

export function idempotencyStoreContract(name: string, make: () => Promise<IdempotencyStore>) {
  describe(`IdempotencyStore contract: ${name}`, () => {
    const now = new Date('2026-11-25T10:00:00Z');
    it('reserves a key once; a repeat is in progress, then replayed once completed; another body is a mismatch', async () => {
      const store = await make();
      const key = `k-${randomUUID()}`;
      const first = await store.reserve(key, 'fp', now, 'op-1');
      expect(first.kind).toBe('reserved');
      expect((await store.reserve(key, 'fp', now, 'op-1')).kind).toBe('inProgress');
      if (first.kind !== 'reserved') return;
      await store.complete(key, first.token, { status: 202, headers: { a: 'b' }, body: '{"ok":true}' });
      expect(await store.reserve(key, 'fp', now, 'op-1')).toEqual({
        kind: 'completed',
        response: { status: 202, headers: { a: 'b' }, body: '{"ok":true}' },
      });
      expect((await store.reserve(key, 'other', now, 'op-1')).kind).toBe('mismatch');
    });

    it('a released key can be reserved again; a lost reservation cannot complete', async () => {
      const store = await make();
      const key = `k-${randomUUID()}`;
      const first = await store.reserve(key, 'fp', now, 'op-1');
      if (first.kind !== 'reserved') throw new Error(first.kind);
      await store.release(key, first.token);
      const second = await store.reserve(key, 'fp', now, 'op-1');
      expect(second.kind).toBe('reserved');
      await expect(store.complete(key, first.token, { status: 202, headers: {} })).rejects.toBeInstanceOf(ConcurrencyError);
    });

    it('of concurrent reservations of one key exactly one wins', async () => {
      const store = await make();
      const key = `k-${randomUUID()}`;
      const results = await Promise.all(Array.from({ length: 8 }, () => store.reserve(key, 'fp', now, 'op-1')));
      expect(results.filter((r) => r.kind === 'reserved')).toHaveLength(1);
    });
  });
}
