// GET /api/opt-outs/{phone} — whether a person is opted out, of each number of the pool and overall.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { services } from '../shared/composition.js';
import { handleHttp, withPhone } from '../shared/adapters/functions/http.js';
import { json } from '../shared/http/problem.js';
import { getOptOutStatus } from '../shared/pipeline/optOuts.js';

export const getOptOut: HttpFunctionOptions = {
  methods: ['GET'],
  route: 'opt-outs/{phone}',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(request, context, () =>
      withPhone(request, async (phone) => {
        const s = services();
        return json(200, await getOptOutStatus({ optOuts: s.optOuts, senders: s.config.senders }, phone));
      }),
    ),
};
