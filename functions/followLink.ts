// GET /api/l/{code} — anonymous: a tracked short link redirects to its URL and counts the visit.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { deps } from '../shared/composition.js';
import { handleHttp } from '../shared/adapters/functions/http.js';
import { followLinkResponse } from '../shared/http/links.js';
import { followLink as follow } from '../shared/pipeline/followLink.js';

export const followLink: HttpFunctionOptions = {
  methods: ['GET', 'HEAD'],
  route: 'l/{code}',
  authLevel: 'anonymous',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(request, context, async (log) =>
      followLinkResponse(
        await follow(deps().followLink(log), request.params.code ?? '', {
          userAgent: request.headers.get('user-agent'),
          method: request.method,
        }),
      ),
    ),
};
