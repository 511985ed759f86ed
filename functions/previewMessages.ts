// POST /api/messages/preview — what POST /api/messages would do with this body, without doing it.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { deps } from '../shared/composition.js';
import { handleHttp, readJsonBody } from '../shared/adapters/functions/http.js';
import { previewView } from '../shared/http/messagePreview.js';
import { submitMessagesRequest } from '../shared/http/messages.js';
import { json, validationProblem } from '../shared/http/problem.js';
import { destinationProblem } from '../shared/http/sending.js';
import { previewMessages as preview } from '../shared/pipeline/previewMessages.js';

export const previewMessages: HttpFunctionOptions = {
  methods: ['POST'],
  route: 'messages/preview',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(request, context, async (_log, caller) => {
      const body = await readJsonBody(request, submitMessagesRequest);
      if (!body.ok) return body.result;
      const result = await preview(deps().preview(), body.value, caller.app);
      if (result.kind === 'invalid') return validationProblem(result.errors);
      if (result.kind === 'refused') return destinationProblem(result.refusals);
      return json(200, previewView(result.preview));
    }),
};
