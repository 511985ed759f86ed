// The subjects resource: DELETE /api/subjects/{phone} — erasure at a person's request. Contract and route.
import { z } from 'zod';
import { PHONE_PARAM, type ApiRoute } from './route.js';

export const erasureResponse = z.object({
  phone: z.string(),
  erasedAt: z.string(),
  erased: z.object({
    messageTexts: z.number().int().describe('Message records whose text and metadata were erased.'),
    conversationEntries: z.number().int().describe('Conversation entries deleted.'),
    canceledMessages: z.number().int().describe('Messages not yet handed to ACS, canceled.'),
    trackedLinks: z.number().int().describe('Tracked short links of their messages, with their clicks, deleted.'),
  }),
  kept: z
    .array(z.object({ data: z.string(), count: z.number().int().optional(), why: z.string() }))
    .describe('What was kept, and why.'),
});

export const subjectRoutes: ApiRoute[] = [
  {
    method: 'delete',
    path: '/api/subjects/{phone}',
    operationId: 'eraseSubject',
    summary: "Erase a person's texts and conversations",
    description:
      'Erases the text and metadata of every message to the person, deletes their conversations and cancels messages not yet handed over. ' +
      'Keeps the consent log and the opt-outs in force (the law requires them) and says what it kept and why. Repeating it is harmless.',
    tags: ['privacy'],
    auth: 'function',
    pathParams: PHONE_PARAM,
    responses: { '200': { description: 'What was erased and what was kept.', schema: erasureResponse } },
    problems: [400],
  },
];
