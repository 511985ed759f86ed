import { describe, expect, it } from 'vitest';
import { moveTo, type MessageRecord } from '../../shared/domain/message.js';
import { canTransition, FINAL_STATUSES, MESSAGE_STATUSES } from '../../shared/domain/messageStatus.js';
import { messageIdOf, newBatchId, parseMessageId, repeatabilityRequestIdOf, BATCH_ID_PATTERN } from '../../shared/domain/ids.js';

describe('status machine', () => {
  it('moves forward only', () => {
    expect(canTransition('queued', 'sending')).toBe(true);
    expect(canTransition('sending', 'sent')).toBe(true);
    expect(canTransition('sent', 'delivered')).toBe(true);
    expect(canTransition('sent', 'sending')).toBe(false);
    expect(canTransition('delivered', 'sent')).toBe(false);
    expect(canTransition('sent', 'queued')).toBe(false);
    expect(canTransition('unknown', 'delivered')).toBe(true);
    expect(canTransition('sent', 'canceled')).toBe(false);
  });

  it('never leaves a final status', () => {
    for (const from of FINAL_STATUSES) for (const to of MESSAGE_STATUSES) expect(canTransition(from, to)).toBe(false);
  });

  it('records each change once in the history; a repeat changes nothing', () => {
    const record = { status: 'sent', history: [{ status: 'sent', at: 'x' }] } as unknown as MessageRecord;
    const at = new Date('2026-11-25T10:00:00Z');
    expect(moveTo(record, 'delivered', at, { code: '2000' })).toBe(true);
    expect(moveTo(record, 'delivered', at)).toBe(false);
    expect(moveTo(record, 'failed', at)).toBe(false);
    expect(record.history).toEqual([
      { status: 'sent', at: 'x' },
      { status: 'delivered', at: '2026-11-25T10:00:00.000Z', code: '2000' },
    ]);
  });
});

describe('ids', () => {
  it('makes sortable batch ids and parseable message ids', () => {
    const a = newBatchId(new Date('2026-11-25T10:00:00Z'));
    const b = newBatchId(new Date('2026-11-25T10:00:01Z'));
    expect(a).toMatch(BATCH_ID_PATTERN);
    expect(a < b).toBe(true);
    expect(parseMessageId(messageIdOf(a, 7))).toEqual({ batchId: a, index: 7 });
    expect(parseMessageId('nope')).toBeUndefined();
    expect(parseMessageId('a/b-1')).toBeUndefined();
  });

  it('derives one stable UUID repeatability id per message id', () => {
    const id = repeatabilityRequestIdOf('abc-001');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(repeatabilityRequestIdOf('abc-001')).toBe(id);
    expect(repeatabilityRequestIdOf('abc-002')).not.toBe(id);
  });
});
