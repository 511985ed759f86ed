import { z } from 'zod';
const s = z.record(z.enum(['a','b']), z.number().int().min(0));
console.log(JSON.stringify(z.toJSONSchema(s)));
console.log(JSON.stringify(z.toJSONSchema(z.looseObject({ a: z.string() }))));
console.log(JSON.stringify(z.toJSONSchema(z.string().regex(/^[\x20-\x7E]+$/))));
console.log(JSON.stringify(z.toJSONSchema(z.object({u: z.url(), x: z.literal('true')}))));
