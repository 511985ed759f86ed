// GET /api/batches/{id} — counts per status for a whole batch, and its messages a page at a time.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { services } from '../shared/composition.js';
import { handleHttp, readQuery } from '../shared/adapters/functions/http.js';
import { batchQuery, batchView } from '../shared/http/batches.js';
import { json, problem, validationProblem } from '../shared/http/problem.js';
import { getBatch as read } from '../shared/pipeline/getBatch.js';

export const getBatch: HttpFunctionOptions = {
  methods: ['GET'],
  route: 'batches/{id}',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(request, context, async (_log, caller) => {
      const id = request.params.id ?? '';
      const query = readQuery(request, batchQuery, ['limit', 'continuationToken']);
      if (!query.ok) return query.result;
      const result = await read(services().messages, id, query.value, caller.app);
      if (result.kind === 'invalidToken') return validationProblem([{ field: 'continuationToken', message: result.reason }]);
      if (result.kind === 'notFound') return problem('notFound', `No batch has the id "${id.slice(0, 80)}".`);
      return json(200, batchView(result.batch));
    }),
};
