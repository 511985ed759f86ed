// GET /api/openapi.json — the OpenAPI 3.1 document of the HTTP API, generated from its schemas.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { handleHttp } from '../shared/adapters/functions/http.js';
import { openApiJson } from '../shared/http/openapi.js';

export const openApi: HttpFunctionOptions = {
  methods: ['GET'],
  route: 'openapi.json',
  authLevel: 'anonymous',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(request, context, async () => ({
      status: 200,
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'public, max-age=300' },
      body: openApiJson(),
    })),
};
