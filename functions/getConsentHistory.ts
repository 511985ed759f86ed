// GET /api/opt-outs/{phone}/history — the consent log of a number: every opt-out and opt-in, oldest first.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { services } from '../shared/composition.js';
import { handleHttp, readQuery, withPhone } from '../shared/adapters/functions/http.js';
import { pageQuery } from '../shared/http/common.js';
import { json } from '../shared/http/problem.js';
import { consentHistory } from '../shared/pipeline/optOuts.js';

export const getConsentHistory: HttpFunctionOptions = {
  methods: ['GET'],
  route: 'opt-outs/{phone}/history',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(request, context, () =>
      withPhone(request, async (phone) => {
        const query = readQuery(request, pageQuery, ['limit', 'continuationToken']);
        if (!query.ok) return query.result;
        return json(200, await consentHistory(services(), phone, query.value));
      }),
    ),
};
