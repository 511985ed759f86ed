// GET /api/messages/{id} — a message with its status history.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { services } from '../shared/composition.js';
import { handleHttp } from '../shared/adapters/functions/http.js';
import { toMessageView } from '../shared/http/messages.js';
import { json, problem } from '../shared/http/problem.js';
import { getMessage as read } from '../shared/pipeline/getMessage.js';

export const getMessage: HttpFunctionOptions = {
  methods: ['GET'],
  route: 'messages/{id}',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(request, context, async (_log, caller) => {
      const id = request.params.id ?? '';
      const record = await read(services().messages, id, caller.app);
      return record ? json(200, toMessageView(record)) : problem('notFound', `No message has the id "${id.slice(0, 80)}".`);
    }),
};
