// DELETE /api/templates/{name} — new messages can no longer use the template; its versions stay.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { deps } from '../shared/composition.js';
import { handleHttp } from '../shared/adapters/functions/http.js';
import { problem } from '../shared/http/problem.js';
import { parseTemplateName } from '../shared/http/templates.js';
import { deleteTemplate as remove } from '../shared/pipeline/templates.js';

export const deleteTemplate: HttpFunctionOptions = {
  methods: ['DELETE'],
  route: 'templates/{name}',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(request, context, async () => {
      const name = parseTemplateName(request.params.name);
      if (!name.ok) return name.result;
      const outcome = await remove(deps().templates(), name.name);
      if (outcome === 'notFound') return problem('notFound', `No template is named "${name.name}".`);
      return { status: 204, headers: {} };
    }),
};
