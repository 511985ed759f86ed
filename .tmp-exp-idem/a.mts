import { z } from 'zod';
import { submitMessagesBody, submitMessagesResponse } from '../shared/http/schemas.ts';
console.log(JSON.stringify(z.toJSONSchema(submitMessagesBody, { io: 'input' }), null, 1).slice(0, 3000));
const q = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });
console.log(JSON.stringify(z.toJSONSchema(q, { io: 'input' })));
console.log(JSON.stringify(z.toJSONSchema(submitMessagesResponse, { io: 'output' })).slice(0,500));
