// GET /api/templates — the current templates in name order, a page at a time.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { deps } from '../shared/composition.js';
import { handleHttp, readQuery } from '../shared/adapters/functions/http.js';
import { json } from '../shared/http/problem.js';
import { templateListQuery, toTemplateView } from '../shared/http/templates.js';
import { listTemplates as list } from '../shared/pipeline/templates.js';

export const listTemplates: HttpFunctionOptions = {
  methods: ['GET'],
  route: 'templates',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(request, context, async () => {
      const query = readQuery(request, templateListQuery, ['limit', 'continuationToken']);
      if (!query.ok) return query.result;
      const page = await list(deps().templates(), query.value);
      return json(200, {
        items: page.items.map(toTemplateView),
        ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}),
      });
    }),
};
