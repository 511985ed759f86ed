// PUT /api/sending — the pause switch: {"paused": true} stops hand-overs of the pool (or of one
// sender or tag) within one pacing slot, {"paused": false} sends every waiting message once.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { deps } from '../shared/composition.js';
import { handleHttp, readJsonBody } from '../shared/adapters/functions/http.js';
import { json, validationProblem } from '../shared/http/problem.js';
import { sendingPutBody, sendingView } from '../shared/http/sending.js';
import { setPause } from '../shared/pipeline/guard/sending.js';

export const setSending: HttpFunctionOptions = {
  methods: ['PUT'],
  route: 'sending',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(request, context, async (log) => {
      const body = await readJsonBody(request, sendingPutBody);
      if (!body.ok) return body.result;
      const outcome = await setPause(deps().sending(log), body.value);
      if (outcome.kind === 'invalid') return validationProblem(outcome.errors);
      return json(200, sendingView(outcome.state), { 'cache-control': 'no-store' });
    }),
};
