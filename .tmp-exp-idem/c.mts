import { buildOpenApiDocument } from '../shared/http/openapi.ts';
const d: any = buildOpenApiDocument();
console.log(JSON.stringify(d.paths['/api/batches/{id}'], null, 1));
console.log(Object.keys(d.components.schemas), Object.keys(d.components.responses));
console.log(JSON.stringify(d.components.schemas.ProblemDetails));
console.log(JSON.stringify(d).length);
