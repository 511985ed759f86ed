// GET /api/opt-outs/{phone}/history — the consent log of a number: every opt-out and opt-in, oldest first.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { services } from '../shared/composition.js';
import { handleHttp, phoneParam, readQuery } from '../shared/adapters/functions/http.js';
import { pageQuery } from '../shared/http/inboundSchemas.js';
import { json } from '../shared/http/problem.js';
import { consentHistory } from '../shared/pipeline/optOuts.js';

export const getConsentHistory: HttpFunctionOptions = {
  methods: ['GET'],
  route: 'opt-outs/{phone}/history',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(context, async () => {
      const phone = phoneParam(request);
      if (!phone.ok) return phone.result;
      const query = readQuery(request, pageQuery, ['limit', 'continuationToken']);
      if (!query.ok) return query.result;
      return json(200, await consentHistory(services(), phone.phone, query.value));
    }),
};
