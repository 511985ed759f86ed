// GET /api/holds — fraud holds (sends to a number range, or a country's OTP traffic, held as
// suspected SMS pumping), newest first: the active ones, released ones, or all.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { deps } from '../shared/composition.js';
import { handleHttp, readQuery } from '../shared/adapters/functions/http.js';
import { json } from '../shared/http/problem.js';
import { holdsQuery, toHoldView } from '../shared/http/sending.js';
import { listHolds as list } from '../shared/pipeline/guard/holds.js';

export const listHolds: HttpFunctionOptions = {
  methods: ['GET'],
  route: 'holds',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(request, context, async (log) => {
      const query = readQuery(request, holdsQuery, ['state', 'limit']);
      if (!query.ok) return query.result;
      const { state, limit } = query.value;
      const holds = await list(deps().holds(log), { ...(state === 'all' ? {} : { state }), limit });
      return json(200, { holds: holds.map(toHoldView) }, { 'cache-control': 'no-store' });
    }),
};
