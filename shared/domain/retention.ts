// Retention (docs/security.md "What is kept, how long"): message texts are erased after
// SMS_RETENTION_TEXT_DAYS (status, times, metadata and analytics stay), message records are
// deleted after SMS_RETENTION_RECORD_DAYS, conversation entries after
// SMS_RETENTION_CONVERSATION_DAYS. Work is found through an index partitioned by the day the
// records were made, so a run reads the days that are due, never a whole table.
import { MAX_SCHEDULE_AHEAD_MS } from './message.js';

export interface RetentionPolicy {
  textDays: number;
  recordDays: number;
  conversationDays: number;
}

/** A message may wait up to 35 days for its schedule: its text must outlive that. */
export const MIN_TEXT_DAYS = Math.ceil(MAX_SCHEDULE_AHEAD_MS / 86_400_000) + 1;

export const DEFAULT_RETENTION: RetentionPolicy = { textDays: 45, recordDays: 400, conversationDays: 90 };

export const RETENTION_STAGES = ['text', 'records', 'conversations'] as const;
export type RetentionStage = (typeof RETENTION_STAGES)[number];

/** How many days before each stage's newest due day a run looks back for days not done yet (a timer off that long). */
export const LOOK_BACK_DAYS = 30;

/** "2026-11-25": the UTC day of a time, as the index is partitioned. */
export function retentionDay(at: Date | string): string {
  return new Date(at).toISOString().slice(0, 10);
}

/** The days whose `stage` is due at `now`, oldest first: made on or before `now` less the stage's days, within the look-back. */
export function dueDays(policy: RetentionPolicy, stage: RetentionStage, now: Date): string[] {
  const keep = stage === 'text' ? policy.textDays : stage === 'records' ? policy.recordDays : policy.conversationDays;
  const newest = Date.parse(`${retentionDay(now)}T00:00:00Z`) - (keep + 1) * 86_400_000;
  return Array.from({ length: LOOK_BACK_DAYS + 1 }, (_, i) => retentionDay(new Date(newest - (LOOK_BACK_DAYS - i) * 86_400_000)));
}
