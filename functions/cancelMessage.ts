// DELETE /api/messages/{id} — cancel a message that has not been handed to ACS yet.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { deps } from '../shared/composition.js';
import { handleHttp } from '../shared/adapters/functions/http.js';
import { toMessageView } from '../shared/http/messages.js';
import { json, problem } from '../shared/http/problem.js';
import { cancelMessage as cancel } from '../shared/pipeline/cancelMessage.js';

export const cancelMessage: HttpFunctionOptions = {
  methods: ['DELETE'],
  route: 'messages/{id}',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(request, context, async (log, caller) => {
      const id = request.params.id ?? '';
      const result = await cancel(deps().cancel(log), id, caller.app);
      switch (result.kind) {
        case 'canceled':
          return json(200, toMessageView(result.message));
        case 'notCancelable':
          return problem(
            'conflict',
            `The message is "${result.status}": only queued, scheduled or held messages can be canceled.`,
            {
              messageStatus: result.status,
            },
          );
        case 'notFound':
          return problem('notFound', `No message has the id "${id.slice(0, 80)}".`);
      }
    }),
};
