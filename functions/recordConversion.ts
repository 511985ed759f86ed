// POST /api/messages/{id}/conversion — the app reports a message as used (its one-time password was
// entered). Recorded once; OTP messages feed pumping detection (conversions per country).
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { deps } from '../shared/composition.js';
import { handleHttp } from '../shared/adapters/functions/http.js';
import { MESSAGE_ID_PATTERN } from '../shared/domain/ids.js';
import { json, problem } from '../shared/http/problem.js';
import { recordConversion as record } from '../shared/pipeline/guard/conversions.js';

export const recordConversion: HttpFunctionOptions = {
  methods: ['POST'],
  route: 'messages/{id}/conversion',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(request, context, async (log, caller) => {
      const id = request.params.id ?? '';
      const outcome = MESSAGE_ID_PATTERN.test(id)
        ? await record(deps().conversions(log), id, caller.app)
        : ({ kind: 'notFound' } as const);
      if (outcome.kind === 'notFound') return problem('notFound', `No message has the id "${id.slice(0, 80)}".`);
      return json(200, {
        messageId: outcome.message.messageId,
        convertedAt: outcome.message.convertedAt!,
        counted: outcome.counted,
      });
    }),
};
