// The batches resource: GET /api/batches/{id} — counts per status for a whole batch, and its
// messages a page at a time. Contracts, view and route.
import { z } from 'zod';
import type { MessageRecord } from '../domain/message.js';
import { MESSAGE_STATUSES } from '../domain/messageStatus.js';
import type { Batch } from '../pipeline/getBatch.js';
import { messageStatusSchema, messageView, toMessageView } from './messages.js';
import type { ApiRoute } from './route.js';

/** Largest page of GET /api/batches/{id}. */
export const MAX_BATCH_PAGE = 1000;
export const DEFAULT_BATCH_PAGE = 100;

/**
 * Query of GET /api/batches/{id}. Values arrive as strings, hence the coercion. Not strict: the
 * function key may come as ?code=, and unknown parameters are ignored.
 */
export const batchQuery = z.object({
  limit: z.coerce
    .number({ message: `must be a whole number from 1 to ${MAX_BATCH_PAGE}` })
    .int(`must be a whole number from 1 to ${MAX_BATCH_PAGE}`)
    .min(1, `must be a whole number from 1 to ${MAX_BATCH_PAGE}`)
    .max(MAX_BATCH_PAGE, `must be a whole number from 1 to ${MAX_BATCH_PAGE}`)
    .default(DEFAULT_BATCH_PAGE)
    .describe(`Messages per page, 1-${MAX_BATCH_PAGE} (default ${DEFAULT_BATCH_PAGE}).`),
  continuationToken: z
    .string()
    .min(1)
    .max(512)
    .optional()
    .describe('The continuationToken of the previous page; absent for the first page.'),
});

export type BatchQuery = z.output<typeof batchQuery>;

/** A message as a batch lists it: the message view without its history (GET the message for that). */
export const batchMessageView = messageView.omit({ history: true });

/** How many messages of a batch are in each status: every status is present, most are 0. */
export const statusCounts = z.record(messageStatusSchema, z.number().int().min(0));

export const batchResponse = z.object({
  batchId: z.string(),
  app: z.string().describe('The app the batch was sent for (docs/security.md "Apps").'),
  total: z.number().int().min(0).describe('Messages in the batch (one per distinct valid recipient).'),
  counts: statusCounts.describe(`Messages per status for the whole batch, whatever the page: ${MESSAGE_STATUSES.join(', ')}.`),
  createdAt: z.string().describe('When the batch was accepted.'),
  messages: z.array(batchMessageView).describe('This page of messages, in message id order.'),
  continuationToken: z.string().optional().describe('Pass it as ?continuationToken= for the next page; absent on the last page.'),
});

export type BatchResponse = z.infer<typeof batchResponse>;
export type BatchMessageView = z.infer<typeof batchMessageView>;

/** The message view without its history: a batch page of 1,000 stays small. */
export function toBatchMessageView(record: MessageRecord): BatchMessageView {
  const { history: _history, ...view } = toMessageView(record);
  return view;
}

export function batchView(batch: Batch): BatchResponse {
  return {
    batchId: batch.batchId,
    app: batch.app,
    total: batch.total,
    counts: batch.counts,
    createdAt: batch.createdAt,
    messages: batch.records.map(toBatchMessageView),
    ...(batch.continuationToken ? { continuationToken: batch.continuationToken } : {}),
  };
}

export const batchRoutes: ApiRoute[] = [
  {
    method: 'get',
    path: '/api/batches/{id}',
    operationId: 'getBatch',
    summary: 'A batch: counts per status and its messages, paged',
    description: 'The counts always cover the whole batch; the messages come a page at a time, in message id order.',
    tags: ['messages'],
    auth: 'function',
    pathParams: { id: 'The batch id, as POST /api/messages returned it.' },
    query: batchQuery,
    responses: { '200': { description: 'The batch.', schema: batchResponse } },
    problems: [404],
  },
];
