// DELETE /api/subjects/{phone} — erases a person's texts and conversations; says what was kept and why.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { deps } from '../shared/composition.js';
import { handleHttp, withPhone } from '../shared/adapters/functions/http.js';
import { json } from '../shared/http/problem.js';
import { eraseSubject as erase } from '../shared/pipeline/eraseSubject.js';

export const eraseSubject: HttpFunctionOptions = {
  methods: ['DELETE'],
  route: 'subjects/{phone}',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(request, context, (log) => withPhone(request, async (phone) => json(200, await erase(deps().erase(log), phone)))),
};
