// Operations: GET /api/health (whether storage, the outbound queue and ACS answer) and
// GET /api/openapi.json (the document itself). Contracts and routes.
import { z } from 'zod';
import { RETRY_AFTER_HEADER as RETRY_AFTER, type ApiRoute } from './route.js';

export const healthResponse = z.object({
  status: z.enum(['healthy', 'unhealthy']),
  checks: z.record(
    z.string(),
    z.object({ ok: z.boolean(), ms: z.number().describe('How long the check took.'), error: z.string().optional() }),
  ),
});

export const operationsRoutes: ApiRoute[] = [
  {
    method: 'get',
    path: '/api/health',
    operationId: 'health',
    summary: 'Whether storage, the outbound queue and ACS are reachable',
    tags: ['operations'],
    auth: 'anonymous',
    responses: {
      '200': { description: 'Every dependency answered.', schema: healthResponse },
      '503': {
        description: 'A dependency did not answer; see checks.',
        schema: healthResponse,
        headers: { 'Retry-After': RETRY_AFTER },
      },
    },
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    operationId: 'openApi',
    summary: 'This OpenAPI document',
    tags: ['operations'],
    auth: 'anonymous',
    responses: { '200': { description: 'The OpenAPI 3.1 document of the API.', schema: z.looseObject({ openapi: z.string() }) } },
  },
];
