// POST /api/messages/preview — what POST /api/messages would do with this body, without doing it.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { services } from '../shared/composition.js';
import { handleHttp, readJsonBody } from '../shared/adapters/functions/http.js';
import { json, validationProblem } from '../shared/http/problem.js';
import { submitMessagesBody } from '../shared/http/schemas.js';
import { previewMessages as preview } from '../shared/pipeline/previewMessages.js';

export const previewMessages: HttpFunctionOptions = {
  methods: ['POST'],
  route: 'messages/preview',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(context, async () => {
      const body = await readJsonBody(request, submitMessagesBody);
      if (!body.ok) return body.result;
      const s = services();
      const result = await preview({ ...s, senders: s.config.senders, maxSegments: s.config.maxSegments }, body.value);
      if (result.kind === 'invalid') return validationProblem(result.errors);
      return json(200, result.response);
    }),
};
