// POST /api/holds/{id}/release — releases a fraud hold: the messages it held go on (or, with
// {"messages":"cancel"}, are canceled), and the range is exempt from new holds for a while.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { deps } from '../shared/composition.js';
import { handleHttp, readJsonBody } from '../shared/adapters/functions/http.js';
import { json, problem } from '../shared/http/problem.js';
import { releaseHoldBody, toHoldView } from '../shared/http/sending.js';
import { HOLD_ID_PATTERN, releaseHold as release } from '../shared/pipeline/guard/holds.js';

export const releaseHold: HttpFunctionOptions = {
  methods: ['POST'],
  route: 'holds/{id}/release',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(request, context, async (log) => {
      const id = request.params.id ?? '';
      const body = await readJsonBody(request, releaseHoldBody);
      if (!body.ok) return body.result;
      const outcome = HOLD_ID_PATTERN.test(id)
        ? await release(deps().holds(log), id, body.value)
        : ({ kind: 'notFound' } as const);
      if (outcome.kind === 'notFound') return problem('notFound', `No hold has the id "${id.slice(0, 40)}".`);
      return json(200, toHoldView(outcome.hold));
    }),
};
