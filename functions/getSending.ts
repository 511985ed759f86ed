// GET /api/sending — whether sending is paused (the pool, a sender, a tag), each budget's spend
// against its limit in the current period, and how many fraud holds stand.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { deps } from '../shared/composition.js';
import { handleHttp } from '../shared/adapters/functions/http.js';
import { json } from '../shared/http/problem.js';
import { sendingView } from '../shared/http/sending.js';
import { sendingState } from '../shared/pipeline/guard/sending.js';

export const getSending: HttpFunctionOptions = {
  methods: ['GET'],
  route: 'sending',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(request, context, async (log) =>
      json(200, sendingView(await sendingState(deps().sending(log))), { 'cache-control': 'no-store' }),
    ),
};
