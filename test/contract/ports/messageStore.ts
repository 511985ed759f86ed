// The MessageStore contract: what the use cases rely on, run against the fake (test/unit) and the
// Table Storage adapter on Azurite (test/integration), so neither can drift from the other.
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { messageIdOf, newBatchId } from '../../../shared/domain/ids.js';
import { newMessageRecord, type MessageRecord } from '../../../shared/domain/message.js';
import { ConcurrencyError } from '../../../shared/ports/errors.js';
import type { MessageStore } from '../../../shared/ports/messages.js';

export function records(count: number, batchId = newBatchId(new Date(), randomBytes(8))): MessageRecord[] {
  return Array.from({ length: count }, (_, i) =>
    newMessageRecord(
      {
        messageId: messageIdOf(batchId, i),
        batchId,
        from: '+18005550100',
        to: `+1425555${String(1000 + i)}`,
        body: 'Hello',
        deliveryReport: true,
        status: 'queued',
      },
      new Date('2026-11-25T10:00:00Z'),
    ),
  );
}

export function messageStoreContract(name: string, make: () => Promise<MessageStore>) {
  describe(`MessageStore contract: ${name}`, () => {
    it('inserts a batch, reads records back with etags, and a second insert changes nothing', async () => {
      const store = await make();
      const batch = records(3);
      await store.insertBatch(batch);
      const first = await store.get(batch[0]!.messageId);
      expect(first).toMatchObject({
        messageId: batch[0]!.messageId,
        to: batch[0]!.to,
        status: 'queued',
        history: [{ status: 'queued' }],
      });
      expect(first?.etag).toBeTruthy();
      const changed = structuredClone(batch);
      changed[0]!.body = 'Other';
      await store.insertBatch(changed);
      expect((await store.get(batch[0]!.messageId))?.body).toBe('Hello');
    });

    it('getMany reads only the given ids of the given batch', async () => {
      const store = await make();
      const a = records(3);
      const b = records(2);
      await store.insertBatch(a);
      await store.insertBatch(b);
      const found = await store.getMany(a[0]!.batchId, [a[0]!.messageId, a[2]!.messageId, b[0]!.messageId, 'nonexistent-001']);
      expect([...found.keys()].sort()).toEqual([a[0]!.messageId, a[2]!.messageId].sort());
    });

    it('finds a recipient within a batch, and an unknown id is undefined', async () => {
      const store = await make();
      const batch = records(3);
      await store.insertBatch(batch);
      expect((await store.findInBatchByRecipient(batch[0]!.batchId, batch[1]!.to))?.messageId).toBe(batch[1]!.messageId);
      expect(await store.findInBatchByRecipient(batch[0]!.batchId, '+14255559999')).toBeUndefined();
      expect(await store.get(messageIdOf(batch[0]!.batchId, 99))).toBeUndefined();
    });

    it('saves conditionally on the etag: a stale copy loses with ConcurrencyError, all or nothing', async () => {
      const store = await make();
      const batch = records(2);
      await store.insertBatch(batch);
      const [a, b] = [(await store.get(batch[0]!.messageId))!, (await store.get(batch[1]!.messageId))!];
      const staleA = structuredClone(a);
      a.status = 'sending';
      await store.save(a);
      expect(a.etag).not.toBe(staleA.etag);
      staleA.status = 'canceled';
      b.status = 'canceled';
      await expect(store.saveAll([b, staleA])).rejects.toBeInstanceOf(ConcurrencyError);
      expect((await store.get(b.messageId))?.status).toBe('queued');
      await expect(store.save(staleA)).rejects.toBeInstanceOf(ConcurrencyError);
    });

    it('pages a batch in message id order', async () => {
      const store = await make();
      const batch = records(5);
      await store.insertBatch(batch);
      const seen: string[] = [];
      let token: string | undefined;
      do {
        const page = await store.listBatch(batch[0]!.batchId, { limit: 2, ...(token ? { continuationToken: token } : {}) });
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((r) => r.messageId));
        token = page.continuationToken;
      } while (token);
      expect(seen).toEqual(batch.map((r) => r.messageId));
    });

    it('indexes ACS message ids and lists a recipient across batches', async () => {
      const store = await make();
      const [a] = records(1);
      const [b] = records(1);
      await store.insertBatch([a!]);
      await store.insertBatch([b!]);
      const acsId = `20261125100000${randomBytes(6).toString('hex')}_noam`;
      await store.indexAcsMessageIds([{ acsMessageId: acsId, messageId: a!.messageId }]);
      expect(await store.messageIdForAcsMessageId(acsId)).toBe(a!.messageId);
      expect(await store.messageIdForAcsMessageId('unknown')).toBeUndefined();
      const mine = await store.listByRecipient(a!.to);
      expect(mine.map((r) => r.messageId)).toEqual(expect.arrayContaining([a!.messageId, b!.messageId]));
      await store.ping();
    });

    it('finds records by reference across batches, a page at a time, and never those of a longer reference', async () => {
      const store = await make();
      const ref = `order/${randomBytes(4).toString('hex')}#1 %x`;
      const [a1, a2, a3] = records(3).map((r, i) => ({ ...r, ...(i < 2 ? { reference: ref } : { reference: `${ref}0` }) }));
      const [b1] = records(1).map((r) => ({ ...r, reference: ref }));
      await store.insertBatch([a1!, a2!, a3!]);
      // A record another app's job created, through saveAll, is findable too.
      await store.saveAll([b1!]);
      const seen: string[] = [];
      let token: string | undefined;
      do {
        const page = await store.findByReference(ref, { limit: 2, ...(token ? { continuationToken: token } : {}) });
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((r) => r.messageId));
        token = page.continuationToken;
      } while (token);
      expect(seen).toEqual([a1!.messageId, a2!.messageId, b1!.messageId].sort());
      expect((await store.findByReference(`${ref}0`, { limit: 10 })).items.map((r) => r.messageId)).toEqual([a3!.messageId]);
      expect((await store.findByReference('nobody-has-this', { limit: 10 })).items).toEqual([]);
    });

    it('finds a message by its ACS id in any published decoration of it', async () => {
      const store = await make();
      const [a] = records(1);
      await store.insertBatch([a!]);
      const guid = randomUUID();
      await store.indexAcsMessageIds([{ acsMessageId: `Outgoing_20261125100000${guid}_noam`, messageId: a!.messageId }]);
      for (const id of [
        `Outgoing_20261125100000${guid}`,
        `20261125100000${guid}`,
        `2026-11-25T10:00:00_${guid}_prod_eur_westeurope_outgoing-mms`,
      ]) {
        expect(await store.messageIdForAcsMessageId(id), id).toBe(a!.messageId);
      }
      expect(await store.messageIdForAcsMessageId(`Outgoing_20261125100000${randomUUID()}`)).toBeUndefined();
    });
  });
}
