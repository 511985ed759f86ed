// GET /api/templates/{name} — a template: the current version, or an earlier one (?version=).
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { deps } from '../shared/composition.js';
import { handleHttp, readQuery } from '../shared/adapters/functions/http.js';
import { json, problem } from '../shared/http/problem.js';
import { parseTemplateName, templateGetQuery, toTemplateView } from '../shared/http/templates.js';
import { getTemplate as read } from '../shared/pipeline/templates.js';

export const getTemplate: HttpFunctionOptions = {
  methods: ['GET'],
  route: 'templates/{name}',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(request, context, async () => {
      const name = parseTemplateName(request.params.name);
      if (!name.ok) return name.result;
      const query = readQuery(request, templateGetQuery, ['version']);
      if (!query.ok) return query.result;
      const template = await read(deps().templates(), name.name, query.value.version);
      if (!template) {
        return problem(
          'notFound',
          query.value.version
            ? `Template "${name.name}" has no version ${query.value.version}.`
            : `No template is named "${name.name}".`,
        );
      }
      return json(200, toTemplateView(template));
    }),
};
