// POST /api/messages — accept messages to send (with Idempotency-Key support).
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { deps, services } from '../shared/composition.js';
import { handleHttp, readJsonBody } from '../shared/adapters/functions/http.js';
import { ATTRIBUTES, SPANS } from '../shared/adapters/functions/telemetry.js';
import { SpanKind, traced } from '../shared/adapters/functions/tracing.js';
import { idempotencyScopeOf } from '../shared/domain/apps.js';
import { newBatchId } from '../shared/domain/ids.js';
import { IDEMPOTENCY_KEY_HEADER, parseIdempotencyKey, withIdempotency } from '../shared/http/idempotency.js';
import { submitMessagesRequest, submitResponse } from '../shared/http/messages.js';
import { json, validationProblem } from '../shared/http/problem.js';
import { budgetProblem, destinationProblem } from '../shared/http/sending.js';
import { submitMessages as submit } from '../shared/pipeline/submitMessages.js';

export const submitMessages: HttpFunctionOptions = {
  methods: ['POST'],
  route: 'messages',
  authLevel: 'function',
  // The `sms.submit` span starts each message's trace (a child of the caller's, when it sent a
  // traceparent header): the records keep it, the send jobs carry it.
  handler: (request: HttpRequest, context: InvocationContext) =>
    traced(context, { name: SPANS.submit, kind: SpanKind.INTERNAL }, ({ set }) =>
      handleHttp(request, context, async (log, caller) => {
        const key = parseIdempotencyKey(request.headers.get(IDEMPOTENCY_KEY_HEADER));
        if (!key.ok) return key.result;
        const body = await readJsonBody(request, submitMessagesRequest);
        if (!body.ok) return body.result;
        return withIdempotency(
          services().idempotency,
          key.key,
          body.value,
          async (operation) => {
            const result = await submit(deps().submit(log), body.value, {
              ...(operation.operationId ? { batchId: operation.operationId } : {}),
              resumed: operation.resumed,
              app: caller.app,
            });
            if (result.kind === 'invalid') return validationProblem(result.errors);
            if (result.kind === 'refused') return destinationProblem(result.refusals);
            if (result.kind === 'budgetExceeded') return budgetProblem(result, services().clock.now());
            const response = submitResponse(result);
            set({
              [ATTRIBUTES.batchId]: response.batchId,
              [ATTRIBUTES.recipients]: response.messages.length,
              ...(body.value.tag ? { [ATTRIBUTES.tag]: body.value.tag } : {}),
            });
            return json(202, response, { location: response.statusUrl });
          },
          {
            scope: idempotencyScopeOf('submitMessages', caller.app),
            clock: services().clock,
            log,
            newOperationId: () => newBatchId(services().clock.now()),
          },
        );
      }).then((response) => {
        set({ [ATTRIBUTES.httpStatusCode]: response.status ?? 200 });
        return response;
      }),
    ),
};
