// GET /api/opt-outs — opt-outs in force, paged; JSON, or CSV with Accept: text/csv (an export).
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { services } from '../shared/composition.js';
import { handleHttp, readQuery } from '../shared/adapters/functions/http.js';
import { optOutListQuery, optOutsCsv } from '../shared/http/optOuts.js';
import { json } from '../shared/http/problem.js';
import { listOptOuts as list } from '../shared/pipeline/optOuts.js';

export const listOptOuts: HttpFunctionOptions = {
  methods: ['GET'],
  route: 'opt-outs',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(request, context, async () => {
      const query = readQuery(request, optOutListQuery, ['from', 'limit', 'continuationToken']);
      if (!query.ok) return query.result;
      const page = await list(services(), query.value);
      if (!/\btext\/csv\b/i.test(request.headers.get('accept') ?? '')) return json(200, page);
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
    }),
};
