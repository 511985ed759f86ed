// GET /api/l/{code}: the short link of a tracked URL (docs/links.md). A 302 to the URL that was in
// the message, or a 404 problem for a code that is unknown or expired; never cached, never indexed,
// and the page reached is not told the short link (Referrer-Policy).
import type { FollowLinkResult } from '../pipeline/followLink.js';
import { problem, type HttpResult } from './problem.js';
import type { ApiRoute } from './route.js';

/** The answer to a visit of a short link. */
export function followLinkResponse(result: FollowLinkResult): HttpResult {
  const headers = { 'cache-control': 'no-store', 'x-robots-tag': 'noindex', 'referrer-policy': 'no-referrer' };
  if (result.kind === 'notFound') {
    const notFound = problem('notFound', 'No link has this code, or it has expired.');
    return { ...notFound, headers: { ...notFound.headers, ...headers } };
  }
  return { status: 302, headers: { ...headers, location: result.location } };
}

export const linkRoutes: ApiRoute[] = [
  {
    method: 'get',
    path: '/api/l/{code}',
    operationId: 'followLink',
    summary: 'Follow a tracked short link',
    description:
      "Anonymous: what https://<LINK_DOMAIN>/<code> in a text leads to. Redirects to the URL that was in the message and counts the visit: a click when a person follows it, a preview when a link-preview fetcher, bot or scanner does (by its user agent; HEAD requests are previews). A message's first click by a person is the event sms.message.clicked.",
    tags: ['links'],
    auth: 'anonymous',
    pathParams: { code: 'The 8-character code of the short link.' },
    responses: {
      '302': {
        description: 'To the URL that was in the message (with the LINK_UTM parameters).',
        headers: { Location: { description: 'The URL.', schema: { type: 'string', format: 'uri' } } },
      },
    },
    problems: [404],
  },
];
