// POST /api/messages — accept messages to send (with Idempotency-Key support).
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { services } from '../shared/composition.js';
import { handleHttp, readJsonBody } from '../shared/adapters/functions/http.js';
import { contextLogger } from '../shared/adapters/functions/logger.js';
import { json, validationProblem } from '../shared/http/problem.js';
import { submitMessagesBody } from '../shared/http/schemas.js';
import { IDEMPOTENCY_KEY_HEADER, parseIdempotencyKey, withIdempotency } from '../shared/pipeline/idempotency.js';
import { submitMessages as submit } from '../shared/pipeline/submitMessages.js';

export const submitMessages: HttpFunctionOptions = {
  methods: ['POST'],
  route: 'messages',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(context, async () => {
      const key = parseIdempotencyKey(request.headers.get(IDEMPOTENCY_KEY_HEADER));
      if (!key.ok) return key.result;
      const body = await readJsonBody(request, submitMessagesBody);
      if (!body.ok) return body.result;
      const s = services();
      const log = contextLogger(context);
      return withIdempotency(
        s.idempotency,
        key.key,
        body.value,
        async () => {
          const result = await submit({ ...s, log, senders: s.config.senders, maxSegments: s.config.maxSegments }, body.value);
          if (result.kind === 'invalid') return validationProblem(result.errors);
          return json(202, result.response, { location: result.response.statusUrl });
        },
        { scope: 'submitMessages', log },
      );
    }),
};
