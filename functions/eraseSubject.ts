// DELETE /api/subjects/{phone} — erases a person's texts and conversations; says what was kept and why.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { services } from '../shared/composition.js';
import { contextLogger } from '../shared/adapters/functions/logger.js';
import { handleHttp, phoneParam } from '../shared/adapters/functions/http.js';
import { json } from '../shared/http/problem.js';
import { eraseSubject as erase } from '../shared/pipeline/eraseSubject.js';

export const eraseSubject: HttpFunctionOptions = {
  methods: ['DELETE'],
  route: 'subjects/{phone}',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(context, async () => {
      const phone = phoneParam(request);
      if (!phone.ok) return phone.result;
      const s = services();
      return json(200, await erase({ ...s, senders: s.config.senders, log: contextLogger(context) }, phone.phone));
    }),
};
