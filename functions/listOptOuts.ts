// GET /api/opt-outs — opt-outs in force, paged; JSON, or CSV with Accept: text/csv (an export).
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { services } from '../shared/composition.js';
import { handleHttp, readQuery } from '../shared/adapters/functions/http.js';
import { optOutListQuery } from '../shared/http/inboundSchemas.js';
import { json } from '../shared/http/problem.js';
import { listOptOuts as list, optOutsCsv } from '../shared/pipeline/optOuts.js';

export const listOptOuts: HttpFunctionOptions = {
  methods: ['GET'],
  route: 'opt-outs',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(context, async () => {
      const query = readQuery(request, optOutListQuery, ['from', 'limit', 'continuationToken']);
      if (!query.ok) return query.result;
      const page = await list(services(), query.value);
      const accept = request.headers.get('accept') ?? '';
      if (/\btext\/csv\b/i.test(accept)) {
        // The next page's token travels in a header; the body stays a plain table.
        return {
          status: 200,
          headers: {
            'content-type': 'text/csv; charset=utf-8',
            'content-disposition': 'attachment; filename="opt-outs.csv"',
            ...(page.continuationToken ? { 'x-continuation-token': page.continuationToken } : {}),
          },
          body: optOutsCsv(page.items),
        };
      }
      return json(200, page);
    }),
};
