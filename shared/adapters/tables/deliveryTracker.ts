// The DeliveryTracker on Table Storage. Tracked messages are keyed by hand-over minute, so a send
// job adds its recipients in one transaction and the reconciler reads only old partitions; the
// delivery report path never touches this table (no cost on the hot path).
import { randomBytes } from 'node:crypto';
import type { TransactionAction } from '@azure/data-tables';
import type { DeliveryTracker, ParkedReport, TrackedMessage } from '../../ports/tracking.js';
import { storageCall } from '../outage.js';
import type { ClientFor } from './tableClients.js';

/** "yyyyMMddHHmm" in UTC: sortable as text, one partition per minute. */
export function minuteBucket(at: Date): string {
  return at.toISOString().slice(0, 16).replace(/[-T:]/g, '');
}

export class TableDeliveryTracker implements DeliveryTracker {
  constructor(private readonly client: ClientFor) {}

  async track(messageIds: readonly string[], at: Date): Promise<void> {
    const sentAt = at.toISOString();
    await this.write(messageIds, at, (partitionKey, id) => [
      'upsert',
      { partitionKey, rowKey: id, sentAt, nextCheckAt: sentAt, inFlight: true },
      'Replace',
    ]);
  }

  async settle(messageIds: readonly string[], at: Date): Promise<void> {
    await this.write(messageIds, at, (partitionKey, id) => ['update', { partitionKey, rowKey: id, inFlight: false }, 'Merge']);
  }

  async inFlight(from: Date, to: Date, limit: number): Promise<TrackedMessage[]> {
    const client = await this.client('deliveryTracking');
    // Entries written before hand-overs were marked in flight lack the property: the filter skips them.
    const filter =
      `PartitionKey ge '${minuteBucket(from)}' and PartitionKey le '${minuteBucket(to)}' and inFlight eq true ` +
      `and sentAt ge '${from.toISOString()}' and sentAt lt '${to.toISOString()}'`;
    return storageCall('read hand-overs in flight', async () => {
      const out: TrackedMessage[] = [];
      for await (const e of client.listEntities<{ sentAt: string; nextCheckAt: string }>({ queryOptions: { filter } })) {
        out.push({
          messageId: e.rowKey!,
          sentAt: e.sentAt,
          nextCheckAt: e.nextCheckAt,
          handle: JSON.stringify([e.partitionKey, e.rowKey]),
        });
        if (out.length >= limit) break;
      }
      return out.sort((a, b) => a.sentAt.localeCompare(b.sentAt));
    });
  }

  /** One transaction per 100 messages of the minute `at` falls in. */
  private async write(
    messageIds: readonly string[],
    at: Date,
    action: (partitionKey: string, id: string) => TransactionAction,
  ): Promise<void> {
    if (messageIds.length === 0) return;
    const client = await this.client('deliveryTracking');
    const partitionKey = minuteBucket(at);
    const unique = [...new Set(messageIds)];
    await storageCall('track hand-overs', async () => {
      for (let i = 0; i < unique.length; i += 100) {
        await client.submitTransaction(unique.slice(i, i + 100).map((id) => action(partitionKey, id)));
      }
    });
  }

  async due(sentBefore: Date, now: Date, limit: number): Promise<TrackedMessage[]> {
    const client = await this.client('deliveryTracking');
    // The partition bound narrows the scan to old minutes; sentAt makes it exact to the millisecond.
    const filter = `PartitionKey le '${minuteBucket(sentBefore)}' and sentAt le '${sentBefore.toISOString()}' and nextCheckAt le '${now.toISOString()}'`;
    const out: TrackedMessage[] = [];
    for await (const page of client
      .listEntities<{ sentAt: string; nextCheckAt: string }>({ queryOptions: { filter } })
      .byPage({ maxPageSize: Math.min(1000, limit) })) {
      for (const e of page) {
        out.push({
          messageId: e.rowKey!,
          sentAt: e.sentAt,
          nextCheckAt: e.nextCheckAt,
          handle: JSON.stringify([e.partitionKey, e.rowKey]),
        });
        if (out.length >= limit) return out;
      }
    }
    return out;
  }

  async untrack(messages: readonly TrackedMessage[]): Promise<void> {
    await this.deleteAll(
      'deliveryTracking',
      messages.map((m) => m.handle),
    );
  }

  async reschedule(message: TrackedMessage, nextCheckAt: Date): Promise<void> {
    const client = await this.client('deliveryTracking');
    const [partitionKey, rowKey] = JSON.parse(message.handle) as [string, string];
    await client.updateEntity({ partitionKey, rowKey, nextCheckAt: nextCheckAt.toISOString() }, 'Merge');
  }

  async park(event: unknown, at: Date): Promise<void> {
    const client = await this.client('parkedReports');
    const body = JSON.stringify(event);
    // A parked event is a delivery report: a few hundred bytes. Anything near the 64 KiB
    // property limit is not one, and is dropped rather than stored.
    if (body.length > 60_000) return;
    await client.createEntity({
      partitionKey: minuteBucket(at),
      rowKey: `${at.getTime()}-${randomBytes(4).toString('hex')}`,
      parkedAt: at.toISOString(),
      event: body,
    });
  }

  async parked(limit: number): Promise<ParkedReport[]> {
    const client = await this.client('parkedReports');
    const out: ParkedReport[] = [];
    for await (const page of client
      .listEntities<{ parkedAt: string; event: string }>()
      .byPage({ maxPageSize: Math.min(1000, limit) })) {
      for (const e of page) {
        out.push({
          event: JSON.parse(e.event) as unknown,
          parkedAt: e.parkedAt,
          handle: JSON.stringify([e.partitionKey, e.rowKey]),
        });
        if (out.length >= limit) return out;
      }
    }
    return out;
  }

  async unpark(reports: readonly ParkedReport[]): Promise<void> {
    await this.deleteAll(
      'parkedReports',
      reports.map((r) => r.handle),
    );
  }

  private async deleteAll(table: 'deliveryTracking' | 'parkedReports', handles: readonly string[]): Promise<void> {
    if (handles.length === 0) return;
    const client = await this.client(table);
    const byPartition = new Map<string, string[]>();
    for (const handle of handles) {
      const [pk, rk] = JSON.parse(handle) as [string, string];
      byPartition.set(pk, [...(byPartition.get(pk) ?? []), rk]);
    }
    for (const [partitionKey, rowKeys] of byPartition) {
      const unique = [...new Set(rowKeys)];
      for (let i = 0; i < unique.length; i += 100) {
        const actions: TransactionAction[] = unique.slice(i, i + 100).map((rowKey) => ['delete', { partitionKey, rowKey }]);
        try {
          await client.submitTransaction(actions);
        } catch (error) {
          // One already-deleted entity fails the whole transaction; delete one by one then.
          if ((error as { statusCode?: number }).statusCode !== 404) throw error;
          for (const rowKey of unique.slice(i, i + 100)) {
            await client.deleteEntity(partitionKey, rowKey).catch((e: { statusCode?: number }) => {
              if (e.statusCode !== 404) throw e;
            });
          }
        }
      }
    }
  }
}
