// GET /api/messages?reference=[&app=] — the messages of one of the app's references, a page at a time.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { services } from '../shared/composition.js';
import { handleHttp, readQuery } from '../shared/adapters/functions/http.js';
import { messageListQuery, toMessageView } from '../shared/http/messages.js';
import { json } from '../shared/http/problem.js';
import { findMessagesByReference } from '../shared/pipeline/getMessage.js';

export const listMessages: HttpFunctionOptions = {
  methods: ['GET'],
  route: 'messages',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(request, context, async (_log, caller) => {
      const query = readQuery(request, messageListQuery, ['reference', 'app', 'limit', 'continuationToken']);
      if (!query.ok) return query.result;
      const { reference, app, ...page } = query.value;
      const found = await findMessagesByReference(services().messages, reference, page, {
        viewer: caller.app,
        ...(app !== undefined ? { app } : {}),
      });
      return json(200, {
        items: found.items.map(toMessageView),
        ...(found.continuationToken ? { continuationToken: found.continuationToken } : {}),
      });
    }),
};
