// A batch as the API shows it: how many of its messages are in each status, and one page of them.
//
// The counts cover the whole batch on every call, so every record is read (pages of 1,000; a
// batch from POST /api/messages has at most 1,000 recipients, so that is one or two storage
// round trips) and the requested page is cut from them. The continuation token is therefore the
// API's own (the last message id of the page), not the store's: it stays valid however the store
// pages, and a client cannot tell the difference.
import { appOf, canSee } from '../domain/apps.js';
import { DEFAULT_APP } from '../domain/caller.js';
import { EXTERNAL_BATCH_ID_PATTERN, parseMessageId } from '../domain/ids.js';
import type { MessageRecord } from '../domain/message.js';
import { MESSAGE_STATUSES, type MessageStatus } from '../domain/messageStatus.js';
import type { MessageStore } from '../ports/messages.js';

/** Page size for reading a batch from the store: the most Table Storage returns at once. */
const READ_PAGE = 1000;

/** A batch: counts for all of it, and one page of its records. */
export interface Batch {
  batchId: string;
  /** The app it was sent for. */
  app: string;
  /** Messages in the batch (one per distinct valid recipient). */
  total: number;
  counts: Record<MessageStatus, number>;
  /** When the batch was accepted. */
  createdAt: string;
  /** This page, in message id order. */
  records: MessageRecord[];
  continuationToken?: string;
}

export type GetBatchResult = { kind: 'found'; batch: Batch } | { kind: 'notFound' } | { kind: 'invalidToken'; reason: string };

/** The batch as `viewer` (the caller's app) may see it: another app's batch is absent to a confined caller (domain/apps.ts). */
export async function getBatch(
  messages: MessageStore,
  batchId: string,
  page: { limit: number; continuationToken?: string },
  viewer: string = DEFAULT_APP,
): Promise<GetBatchResult> {
  // Ids the pipeline never issues cannot name a batch; refusing them early also keeps odd
  // characters away from the store's queries.
  if (!EXTERNAL_BATCH_ID_PATTERN.test(batchId)) return { kind: 'notFound' };

  let after: string | undefined;
  if (page.continuationToken !== undefined) {
    after = decodeToken(page.continuationToken, batchId);
    if (after === undefined) return { kind: 'invalidToken', reason: 'is not a continuation token of this batch' };
  }

  const records = await readAll(messages, batchId);
  // A batch is one app's: its records all say the same.
  if (records.length === 0 || !canSee(viewer, records[0]!)) return { kind: 'notFound' };
  records.sort(compareMessages);

  const counts = Object.fromEntries(MESSAGE_STATUSES.map((s) => [s, 0])) as Record<MessageStatus, number>;
  let createdAt = records[0]!.createdAt;
  for (const r of records) {
    counts[r.status]++;
    if (r.createdAt < createdAt) createdAt = r.createdAt;
  }

  const start = after === undefined ? 0 : records.findIndex((r) => compareIds(r.messageId, after!) > 0);
  const slice = start < 0 ? [] : records.slice(start, start + page.limit);
  const last = slice.at(-1);
  const more = start >= 0 && start + page.limit < records.length;

  return {
    kind: 'found',
    batch: {
      batchId,
      app: appOf(records[0]!),
      total: records.length,
      counts,
      createdAt,
      records: slice,
      ...(more && last ? { continuationToken: encodeToken(batchId, last.messageId) } : {}),
    },
  };
}

async function readAll(messages: MessageStore, batchId: string): Promise<MessageRecord[]> {
  const out: MessageRecord[] = [];
  let token: string | undefined;
  do {
    const page = await messages.listBatch(batchId, { limit: READ_PAGE, ...(token ? { continuationToken: token } : {}) });
    out.push(...page.items);
    token = page.continuationToken;
  } while (token);
  return out;
}

/** Message id order, by position in the batch (ids of batches larger than 1,000 have 4 digits). */
function compareIds(a: string, b: string): number {
  const pa = parseMessageId(a);
  const pb = parseMessageId(b);
  if (pa && pb && pa.batchId === pb.batchId) return pa.index - pb.index;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareMessages(a: MessageRecord, b: MessageRecord): number {
  return compareIds(a.messageId, b.messageId);
}

function encodeToken(batchId: string, lastMessageId: string): string {
  return Buffer.from(JSON.stringify({ b: batchId, a: lastMessageId }), 'utf8').toString('base64url');
}

/** The last message id of the previous page, or undefined when the token is not one of ours for this batch. */
function decodeToken(token: string, batchId: string): string | undefined {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { b?: unknown; a?: unknown };
    return value.b === batchId && typeof value.a === 'string' ? value.a : undefined;
  } catch {
    return undefined;
  }
}
