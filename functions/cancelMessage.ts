// DELETE /api/messages/{id} — cancel a message that has not been handed to ACS yet.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { services } from '../shared/composition.js';
import { handleHttp } from '../shared/adapters/functions/http.js';
import { contextLogger } from '../shared/adapters/functions/logger.js';
import { json, problem } from '../shared/http/problem.js';
import { cancelMessage as cancel } from '../shared/pipeline/cancelMessage.js';

export const cancelMessage: HttpFunctionOptions = {
  methods: ['DELETE'],
  route: 'messages/{id}',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(context, async () => {
      const id = request.params.id ?? '';
      const result = await cancel({ ...services(), log: contextLogger(context) }, id);
      switch (result.kind) {
        case 'canceled':
          return json(200, result.message);
        case 'notCancelable':
          return problem('conflict', `The message is "${result.status}": only queued or scheduled messages can be canceled.`, {
            messageStatus: result.status,
          });
        case 'notFound':
          return problem('notFound', `No message has the id "${id.slice(0, 80)}".`);
      }
    }),
};
