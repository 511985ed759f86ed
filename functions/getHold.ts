// GET /api/holds/{id} — one fraud hold: what was seen, and whether it was released.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { deps } from '../shared/composition.js';
import { handleHttp } from '../shared/adapters/functions/http.js';
import { json, problem } from '../shared/http/problem.js';
import { toHoldView } from '../shared/http/sending.js';
import { getHold as get, HOLD_ID_PATTERN } from '../shared/pipeline/guard/holds.js';

export const getHold: HttpFunctionOptions = {
  methods: ['GET'],
  route: 'holds/{id}',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(request, context, async (log) => {
      const id = request.params.id ?? '';
      const hold = HOLD_ID_PATTERN.test(id) ? await get(deps().holds(log), id) : undefined;
      if (!hold) return problem('notFound', `No hold has the id "${id.slice(0, 40)}".`);
      return json(200, toHoldView(hold), { 'cache-control': 'no-store' });
    }),
};
