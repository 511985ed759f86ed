// Operations: GET /api/health (whether storage, the outbound queue and ACS answer) and
// GET /api/openapi.json (the document itself). Contracts and routes.
import { z } from 'zod';
import type { HealthReport } from '../pipeline/health.js';
import { RETRY_AFTER_HEADER as RETRY_AFTER, type ApiRoute } from './route.js';

const sendingState = z
  .enum(['active', 'partlyPaused', 'paused'])
  .describe('Whether hand-overs run: paused (PUT /api/sending paused the pool), partlyPaused (a sender or a tag), active.');

export const healthSummaryResponse = z.object({
  status: z.enum(['healthy', 'unhealthy']).describe('healthy: storage, the outbound queue and ACS all answered.'),
  checkedAt: z.string().describe('When the checks ran (results are kept for 5 seconds).'),
  sending: sendingState.optional(),
});

export const healthResponse = healthSummaryResponse.extend({
  checks: z.record(
    z.string(),
    z.object({ ok: z.boolean(), ms: z.number().describe('How long the check took.'), error: z.string().optional() }),
  ),
  sending: z
    .object({
      state: sendingState,
      pauses: z.number().int(),
      activeHolds: z.number().int().describe('Fraud holds in force (GET /api/holds).'),
    })
    .optional(),
});

/** What anyone may see: the verdict and whether sending is paused, never which dependency failed or how (that needs a key). */
export function healthSummary(report: HealthReport): z.infer<typeof healthSummaryResponse> {
  return { status: report.status, checkedAt: report.checkedAt, ...(report.sending ? { sending: report.sending.state } : {}) };
}

export const operationsRoutes: ApiRoute[] = [
  {
    method: 'get',
    path: '/api/health',
    operationId: 'health',
    summary: 'Whether the pipeline can work: storage, the outbound queue and ACS all answer',
    description: 'Anonymous, for load balancers and monitors: the verdict only. Checks run at most every 5 seconds.',
    tags: ['operations'],
    auth: 'anonymous',
    responses: {
      '200': { description: 'Every dependency answered.', schema: healthSummaryResponse },
      '503': {
        description: 'A dependency did not answer (GET /api/health/details says which).',
        schema: healthSummaryResponse,
        headers: { 'Retry-After': RETRY_AFTER },
      },
    },
  },
  {
    method: 'get',
    path: '/api/health/details',
    operationId: 'healthDetails',
    summary: 'Each health check, its time and its error',
    tags: ['operations'],
    auth: 'function',
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
