// GET /api/conversations/{phone}?from=… — the thread between one of our numbers and a person, newest first.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { services } from '../shared/composition.js';
import { handleHttp, readQuery, withPhone } from '../shared/adapters/functions/http.js';
import { conversationQuery, conversationView } from '../shared/http/conversations.js';
import { json, validationProblem } from '../shared/http/problem.js';
import { getConversation as read } from '../shared/pipeline/conversations.js';

export const getConversation: HttpFunctionOptions = {
  methods: ['GET'],
  route: 'conversations/{phone}',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(request, context, (_log, caller) =>
      withPhone(request, async (phone) => {
        const query = readQuery(request, conversationQuery, ['from', 'limit', 'continuationToken']);
        if (!query.ok) return query.result;
        const s = services();
        const result = await read(
          { conversations: s.conversations, senders: s.config.senders, apps: s.config.apps },
          phone,
          query.value,
          caller.app,
        );
        if (result.kind === 'invalid') return validationProblem([{ field: result.field, message: result.message }]);
        return json(200, conversationView(result.conversation));
      }),
    ),
};
