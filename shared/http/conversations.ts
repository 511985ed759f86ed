// The conversations resource: GET /api/conversations/{phone} — the thread between one of our
// numbers and a person, newest first. Contracts, view and route.
import { z } from 'zod';
import type { ThreadEntry } from '../domain/conversation.js';
import type { Conversation } from '../pipeline/conversations.js';
import { continuationToken, pageLimit, senderParam } from './common.js';
import { PHONE_PARAM, type ApiRoute } from './route.js';

export const conversationQuery = z.object({
  from: senderParam.optional().describe('Our number of the thread; may be left out when the pool has one number.'),
  limit: pageLimit(200, 50),
  continuationToken,
});

export const conversationResponse = z.object({
  phone: z.string().describe('Their number.'),
  from: z.string().describe('Our number.'),
  messages: z
    .array(
      z.object({
        direction: z.enum(['inbound', 'outbound']),
        at: z.string().describe('Outbound: when it was handed to ACS. Inbound: when ACS received it.'),
        body: z.string(),
        app: z
          .string()
          .optional()
          .describe(
            'The app it belongs to (docs/security.md "Apps"): outbound, its message\'s; inbound, the app owning our number, else the app of the message it answers. Absent on entries older than apps.',
          ),
        messageId: z.string().optional().describe('Outbound: GET /api/messages/{id} for its status.'),
        batchId: z.string().optional(),
        tag: z.string().optional(),
        template: z
          .string()
          .optional()
          .describe('Outbound: the template and version the text was rendered from ("appointment-reminder@3").'),
        inboundMessageId: z.string().optional().describe("Inbound: ACS's id of the text."),
        keyword: z.enum(['optOut', 'optIn', 'help']).nullable().optional().describe('Inbound: the keyword class, or null.'),
        inReplyTo: z
          .object({
            messageId: z.string(),
            batchId: z.string(),
            app: z.string().optional(),
            tag: z.string().optional(),
            template: z.string().optional(),
            sentAt: z.string(),
          })
          .optional()
          .describe('Inbound: the last message we sent the person from this number before it arrived.'),
      }),
    )
    .describe('Newest first.'),
  continuationToken: z.string().optional(),
});

export type ConversationResponse = z.infer<typeof conversationResponse>;

/** One message of a thread as the API shows it. */
function toConversationMessage(e: ThreadEntry): ConversationResponse['messages'][number] {
  return {
    direction: e.direction,
    at: e.at,
    body: e.body,
    ...(e.app ? { app: e.app } : {}),
    ...(e.messageId ? { messageId: e.messageId } : {}),
    ...(e.batchId ? { batchId: e.batchId } : {}),
    ...(e.tag ? { tag: e.tag } : {}),
    ...(e.template ? { template: e.template } : {}),
    ...(e.inboundMessageId ? { inboundMessageId: e.inboundMessageId } : {}),
    ...(e.direction === 'inbound' ? { keyword: e.keyword ?? null } : {}),
    ...(e.inReplyTo ? { inReplyTo: e.inReplyTo } : {}),
  };
}

export function conversationView(conversation: Conversation): ConversationResponse {
  return {
    phone: conversation.phone,
    from: conversation.from,
    messages: conversation.page.items.map(toConversationMessage),
    ...(conversation.page.continuationToken ? { continuationToken: conversation.page.continuationToken } : {}),
  };
}

export const conversationRoutes: ApiRoute[] = [
  {
    method: 'get',
    path: '/api/conversations/{phone}',
    operationId: 'getConversation',
    summary: 'The thread between one of our numbers and a person, newest first',
    description:
      'Every text sent (from its hand-over to ACS) and received, with each inbound text linked to the last message it answers. ' +
      'Reply with POST /api/messages from the same number.',
    tags: ['conversations'],
    auth: 'function',
    pathParams: PHONE_PARAM,
    query: conversationQuery,
    responses: { '200': { description: 'A page of the thread.', schema: conversationResponse } },
  },
];
