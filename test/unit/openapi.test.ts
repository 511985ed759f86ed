import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { API_ROUTES, buildOpenApiDocument, openApiJson } from '../../shared/http/openapi.js';
import { submitMessagesBody } from '../../shared/http/messages.js';

// The document is walked as plain JSON; typing every OpenAPI object would only restate it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;
const doc = buildOpenApiDocument() as Json;

/** Resolves a local JSON pointer ("#/components/schemas/X") in the document. */
function resolve(ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let node: any = doc;
  for (const raw of ref.slice(2).split('/')) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(part in node)) return undefined;
    node = node[part];
  }
  return node;
}

function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => refsIn(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refsIn(v, out);
    }
  }
  return out;
}

const deref = (node: Json): Json => (node.$ref ? (resolve(node.$ref) as Json) : node);
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 in shape', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(Object.keys(doc.paths).length).toBeGreaterThan(0);
    const operationIds = new Set<string>();
    for (const [path, item] of Object.entries<Json>(doc.paths)) {
      expect(path.startsWith('/')).toBe(true);
      for (const [method, op] of Object.entries<Json>(item)) {
        expect(METHODS).toContain(method);
        expect(operationIds.has(op.operationId)).toBe(false);
        operationIds.add(op.operationId);
        expect(Object.keys(op.responses).length).toBeGreaterThan(0);
        for (const [status, response] of Object.entries<Json>(op.responses)) {
          expect(status).toMatch(/^[1-5]\d\d$/);
          expect(typeof deref(response).description).toBe('string');
        }
        // Every templated path segment is a required path parameter, and the other way round.
        const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
        const pathParams = (op.parameters ?? []).filter((p: Json) => p.in === 'path');
        expect(pathParams.map((p: Json) => p.name).sort()).toEqual(templated.sort());
        for (const p of pathParams) expect(p.required).toBe(true);
        for (const p of op.parameters ?? []) expect(['path', 'query', 'header', 'cookie']).toContain(p.in);
      }
    }
  });

  it('resolves every $ref, and leaves no $schema or $defs inside', () => {
    const refs = refsIn(doc);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(resolve(ref), ref).toBeDefined();
    expect(JSON.stringify(doc)).not.toMatch(/"\$schema"|"\$defs"/);
  });

  it('describes every route of the registry', () => {
    for (const route of API_ROUTES) {
      const op = doc.paths[route.path]?.[route.method];
      expect(op, `${route.method} ${route.path}`).toBeDefined();
      expect(op.operationId).toBe(route.operationId);
    }
    const expected = [
      'post /api/messages',
      'get /api/messages',
      'post /api/messages/preview',
      'get /api/messages/{id}',
      'delete /api/messages/{id}',
      'get /api/batches/{id}',
      'get /api/opt-outs',
      'get /api/opt-outs/{phone}',
      'put /api/opt-outs/{phone}',
      'delete /api/opt-outs/{phone}',
      'get /api/opt-outs/{phone}/history',
      'get /api/conversations/{phone}',
      'delete /api/subjects/{phone}',
      'get /api/templates',
      'put /api/templates/{name}',
      'get /api/templates/{name}',
      'delete /api/templates/{name}',
      'get /api/analytics',
      'get /api/dashboard',
      'get /api/health',
      'get /api/health/details',
      'get /api/openapi.json',
      'get /api/sending',
      'put /api/sending',
      'get /api/holds',
      'get /api/holds/{id}',
      'post /api/holds/{id}/release',
      'post /api/messages/{id}/conversion',
      'get /api/l/{code}',
    ];
    const actual = Object.entries<Json>(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m} ${path}`));
    expect(actual.sort()).toEqual(expected.sort());
  });

  it('takes the POST /api/messages request schema from the zod schema that validates it', () => {
    const op = doc.paths['/api/messages'].post;
    const schema = deref(op.requestBody.content['application/json'].schema);
    const { $schema: _ignored, ...fromZod } = z.toJSONSchema(submitMessagesBody, { io: 'input' }) as Json;
    expect(schema).toEqual(fromZod);
    // One of three forms, each strict: one text, a text per message, a template.
    const [text, messages, template] = schema.anyOf as [Json, Json, Json];
    expect(text.properties.to.anyOf).toContainEqual(expect.objectContaining({ type: 'array', maxItems: 1000, minItems: 1 }));
    expect(text.properties.message).toMatchObject({ type: 'string', maxLength: 2048, minLength: 1 });
    expect(text.required).toEqual(['to', 'message']);
    expect(messages.required).toEqual(['messages']);
    expect(messages.properties.messages).toMatchObject({ type: 'array', maxItems: 1000, minItems: 1 });
    expect(messages.properties.messages.items.required).toEqual(['to', 'text']);
    expect(template.required).toEqual(['template', 'to']);
    expect(template.properties.to.items.properties.variables).toMatchObject({ type: 'object' });
    for (const form of [text, messages, template]) expect(form.additionalProperties).toBe(false);
  });

  it('documents the Idempotency-Key header and the replay header on POST /api/messages', () => {
    const op = doc.paths['/api/messages'].post;
    const header = op.parameters.find((p: Json) => p.in === 'header' && p.name === 'Idempotency-Key');
    expect(header).toMatchObject({ required: false, schema: { type: 'string', minLength: 1, maxLength: 255 } });
    expect(header.description).toMatch(/24 hours/);
    expect(op.responses['202'].headers['Idempotent-Replayed']).toBeDefined();
    expect(deref(op.responses['422']).content['application/problem+json']).toBeDefined();
    expect(deref(op.responses['409']).content['application/problem+json']).toBeDefined();
  });

  it('answers errors as problem+json with a ProblemDetails schema', () => {
    const problem = doc.components.schemas.ProblemDetails;
    expect(problem.required).toEqual(expect.arrayContaining(['type', 'title', 'status', 'detail']));
    for (const item of Object.values<Json>(doc.paths)) {
      for (const op of Object.values<Json>(item)) {
        for (const [status, response] of Object.entries<Json>(op.responses)) {
          if (Number(status) < 400 || status === '401' || op.operationId === 'health' || op.operationId === 'healthDetails')
            continue;
          expect(deref(response).content?.['application/problem+json']?.schema, `${op.operationId} ${status}`).toEqual({
            $ref: '#/components/schemas/ProblemDetails',
          });
        }
      }
    }
    expect(deref(doc.paths['/api/messages/{id}'].delete.responses['409'])).toBeDefined();
    expect(deref(doc.paths['/api/batches/{id}'].get.responses['404'])).toBeDefined();
  });

  it('pages batches with limit and continuationToken query parameters', () => {
    const params = doc.paths['/api/batches/{id}'].get.parameters as Json[];
    expect(params.find((p) => p.name === 'limit')).toMatchObject({
      in: 'query',
      required: false,
      schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    });
    expect(params.find((p) => p.name === 'continuationToken')).toMatchObject({ in: 'query', required: false });
  });

  it('secures function-level routes with a function key, in the header or the query, or an Entra ID token with a role', () => {
    expect(doc.components.securitySchemes).toEqual({
      functionKeyHeader: expect.objectContaining({ type: 'apiKey', in: 'header', name: 'x-functions-key' }),
      functionKeyQuery: expect.objectContaining({ type: 'apiKey', in: 'query', name: 'code' }),
      entraId: expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }),
    });
    expect(doc.paths['/api/messages'].post.security).toEqual([
      { functionKeyHeader: [] },
      { functionKeyQuery: [] },
      { entraId: [] },
    ]);
    expect(doc.paths['/api/messages'].post['x-required-role']).toBe('Messages.Send');
    expect(doc.paths['/api/subjects/{phone}'].delete['x-required-role']).toBe('Subjects.Erase');
    expect(doc.paths['/api/subjects/{phone}'].delete.description).toMatch(/app role Subjects\.Erase/);
    expect(deref(doc.paths['/api/messages'].post.responses['401']).content['application/problem+json']).toBeDefined();
    expect(deref(doc.paths['/api/subjects/{phone}'].delete.responses['403']).description).toMatch(/requiredRole/);
    expect(doc.paths['/api/health'].get['x-required-role']).toBeUndefined();
    expect(doc.paths['/api/health'].get.security).toEqual([]);
    expect(doc.paths['/api/openapi.json'].get.security).toEqual([]);
  });

  it('is served as JSON text of the same document', () => {
    expect(JSON.parse(openApiJson())).toEqual(JSON.parse(JSON.stringify(doc)));
  });
});
