// PUT /api/templates/{name} — creates a template, or makes changed content its next version.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { deps } from '../shared/composition.js';
import { handleHttp, readJsonBody } from '../shared/adapters/functions/http.js';
import { json } from '../shared/http/problem.js';
import { parseTemplateName, templateContentOf, templatePutBody, toTemplateView } from '../shared/http/templates.js';
import { putTemplate as put } from '../shared/pipeline/templates.js';

export const putTemplate: HttpFunctionOptions = {
  methods: ['PUT'],
  route: 'templates/{name}',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(request, context, async () => {
      const name = parseTemplateName(request.params.name);
      if (!name.ok) return name.result;
      const body = await readJsonBody(request, templatePutBody);
      if (!body.ok) return body.result;
      const result = await put(deps().templates(), templateContentOf(name.name, body.value));
      return json(result.kind === 'created' ? 201 : 200, toTemplateView(result.template), {
        location: `/api/templates/${encodeURIComponent(name.name)}`,
      });
    }),
};
