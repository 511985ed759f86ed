// The LinkStore contract, run against the fake (test/unit) and the Table Storage adapter on Azurite
// (test/integration): one code key for everyone, insert-if-absent per code (a retry of the same link
// is kept, another message's is refused), etag-conditional visits, a first click marked once, erasure.
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { linkCode, type TrackedLink } from '../../../shared/domain/links.js';
import { ConcurrencyError } from '../../../shared/ports/errors.js';
import type { LinkStore } from '../../../shared/ports/links.js';

function link(messageId: string, index = 0, code = linkCode(randomBytes(32), messageId, index)): TrackedLink {
  return {
    code,
    url: `https://shop.example.com/p/${index}`,
    target: `https://shop.example.com/p/${index}?utm_source=sms`,
    messageId,
    batchId: messageId.replace(/-\d+$/, ''),
    index,
    round: 0,
    from: '+18005550100',
    app: 'app-booking',
    tag: 'spring',
    template: 'promo@2',
    reference: 'order-1',
    sentAt: '2026-11-25T10:00:00.000Z',
    expiresAt: '2027-02-23T10:00:00.000Z',
  };
}

export function linkStoreContract(name: string, make: () => Promise<LinkStore>) {
  describe(`LinkStore contract: ${name}`, () => {
    it('has one code key, the same for every caller', async () => {
      const store = await make();
      const [a, b] = await Promise.all([store.codeKey(), store.codeKey()]);
      expect(a.length).toBe(32);
      expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
      expect(Buffer.from(await (await make()).codeKey()).equals(Buffer.from(a))).toBe(true);
    });

    it('stores links whose codes are free, keeps a retry of the same link, refuses another message a taken code', async () => {
      const store = await make();
      const batch = `b${randomUUID().slice(0, 8)}`;
      const mine = [link(`${batch}-000`, 0), link(`${batch}-000`, 1), link(`${batch}-001`, 0)];
      expect(await store.save(mine)).toEqual([]);
      expect(await store.save(mine)).toEqual([]);
      const stolen = { ...link(`${batch}-002`, 0), code: mine[0]!.code };
      expect(await store.save([stolen, link(`${batch}-002`, 1)])).toEqual([stolen]);
      const stored = (await store.get(mine[0]!.code))!;
      expect(stored.link).toEqual(mine[0]);
      expect(stored.visits).toEqual({ clicks: 0, previews: 0 });
      expect(await store.get('ZZZZZZZZ')).toBeUndefined();
    });

    it('saves visits conditionally on the etag', async () => {
      const store = await make();
      const l = link(`v${randomUUID().slice(0, 8)}-000`);
      await store.save([l]);
      const first = (await store.get(l.code))!;
      const visits = {
        clicks: 1,
        previews: 0,
        firstClickAt: '2026-11-25T10:05:00.000Z',
        lastVisitAt: '2026-11-25T10:05:00.000Z',
      };
      await store.saveVisits(l.code, visits, first.etag);
      await expect(store.saveVisits(l.code, { ...visits, clicks: 2 }, first.etag)).rejects.toBeInstanceOf(ConcurrencyError);
      const second = (await store.get(l.code))!;
      expect(second.visits).toEqual(visits);
      expect(second.link).toEqual(l);
    });

    it('marks a message clicked once, and erasure removes links and marks (twice is harmless)', async () => {
      const store = await make();
      const messageId = `e${randomUUID().slice(0, 8)}-000`;
      const l = link(messageId);
      await store.save([l]);
      expect(await store.claimFirstClick(messageId, '2026-11-25T10:05:00.000Z')).toBe(true);
      expect(await store.claimFirstClick(messageId, '2026-11-25T10:06:00.000Z')).toBe(false);
      await store.erase([l.code], [messageId]);
      await store.erase([l.code], [messageId]);
      expect(await store.get(l.code)).toBeUndefined();
      expect(await store.claimFirstClick(messageId, '2026-11-25T10:07:00.000Z')).toBe(true);
    });
  });
}
