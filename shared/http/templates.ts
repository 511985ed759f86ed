// The templates resource: PUT/GET/DELETE /api/templates/{name} and GET /api/templates. Contracts,
// views and routes. A template is a text with {{variable}} placeholders, optional variants per
// locale, a description and a category; POST /api/messages renders it per recipient.
import { z } from 'zod';
import {
  LOCALE_PATTERN,
  MAX_TEMPLATE_LOCALES,
  MAX_TEMPLATE_TEXT,
  TEMPLATE_CATEGORIES,
  TEMPLATE_NAME_PATTERN,
  parseTemplateText,
  variablesOf,
  type Template,
  type TemplateContent,
} from '../domain/template.js';
import { continuationToken, pageLimit } from './common.js';
import { validationProblem, type HttpResult } from './problem.js';
import type { ApiRoute } from './route.js';

const templateText = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_TEMPLATE_TEXT, `must be at most ${MAX_TEMPLATE_TEXT} characters`)
  .superRefine((text, ctx) => {
    const parsed = parseTemplateText(text);
    if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.message });
  });

export const templatePutBody = z
  .strictObject({
    text: templateText.describe(
      'The default text, with placeholders such as {{firstName}} (letters, digits and _; spaces inside the braces are ignored).',
    ),
    locales: z
      .record(z.string().regex(LOCALE_PATTERN, 'keys must be language tags such as "de" or "pt-BR"'), templateText)
      .refine((l) => Object.keys(l).length <= MAX_TEMPLATE_LOCALES, `must have at most ${MAX_TEMPLATE_LOCALES} variants`)
      .default({})
      .describe(
        'Variants by language tag. A message asks for a locale; the exact tag, else the same language, else the default text is used.',
      ),
    description: z.string().trim().max(500, 'must be at most 500 characters').optional().describe('What the template is for.'),
    category: z
      .enum(TEMPLATE_CATEGORIES)
      .describe(
        '"transactional" (reminders, receipts: expected by the recipient), "marketing" (promotions) or "otp" (one-time codes): the category of its messages unless a request names one, which decides their send rules (quiet hours, frequency caps; docs/sending.md).',
      ),
  })
  .superRefine((body, ctx) => {
    // One set of variables for every variant: what a message must give cannot depend on its locale.
    const expected = variablesOf(body.text);
    for (const [tag, text] of Object.entries(body.locales)) {
      const used = variablesOf(text);
      const extra = used.filter((v) => !expected.includes(v));
      const missing = expected.filter((v) => !used.includes(v));
      if (extra.length + missing.length === 0 || !parseTemplateText(text).ok) continue;
      ctx.addIssue({
        code: 'custom',
        path: ['locales', tag],
        message: `must use the same variables as the default text${missing.length ? `; it lacks ${missing.map((v) => `{{${v}}}`).join(', ')}` : ''}${extra.length ? `; it adds ${extra.map((v) => `{{${v}}}`).join(', ')}` : ''}`,
      });
    }
  })
  .describe('A template. PUT the same content again and nothing changes; PUT different content and it becomes the next version.');

export const templateNameParam = z
  .string()
  .regex(TEMPLATE_NAME_PATTERN, 'must be 1-64 letters, digits, _ . - starting with a letter or digit');

export const templateGetQuery = z.object({
  version: z.coerce
    .number({ message: 'must be a whole number from 1' })
    .int('must be a whole number from 1')
    .min(1, 'must be a whole number from 1')
    .optional()
    .describe('An earlier version (kept after changes and after a delete); without it, the current one.'),
});

export const templateListQuery = z.object({ limit: pageLimit(1000, 100), continuationToken });

export const templateView = z.object({
  name: z.string(),
  version: z.number().int().describe('1 for the first content, one more for each change; never reused.'),
  text: z.string(),
  locales: z.record(z.string(), z.string()),
  variables: z
    .array(z.string())
    .describe('The variables the template uses (every variant uses the same), in order: each message gives exactly these.'),
  description: z.string().optional(),
  category: z.enum(TEMPLATE_CATEGORIES),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const templateListResponse = z.object({
  items: z.array(templateView),
  continuationToken: z.string().optional(),
});

export type TemplateView = z.infer<typeof templateView>;

export function toTemplateView(template: Template): TemplateView {
  return {
    name: template.name,
    version: template.version,
    text: template.text,
    locales: template.locales,
    variables: variablesOf(template.text),
    ...(template.description ? { description: template.description } : {}),
    category: template.category,
    createdAt: template.createdAt,
    updatedAt: template.updatedAt,
  };
}

export function templateContentOf(name: string, body: z.output<typeof templatePutBody>): TemplateContent {
  return {
    name,
    text: body.text,
    locales: body.locales,
    ...(body.description ? { description: body.description } : {}),
    category: body.category,
  };
}

const NAME_PARAM = { name: 'The template name: 1-64 letters, digits, _ . - (case-sensitive).' };

export const templateRoutes: ApiRoute[] = [
  {
    method: 'put',
    path: '/api/templates/{name}',
    operationId: 'putTemplate',
    summary: 'Create or change a template',
    description:
      'Creates the template (201) or, when the content differs, makes it the next version (200). The same content again changes nothing ' +
      '(200, same version). Messages already accepted keep the text they were rendered with.',
    tags: ['templates'],
    auth: 'function',
    pathParams: NAME_PARAM,
    requestBody: { schema: templatePutBody },
    responses: {
      '200': { description: 'Changed (a new version) or unchanged.', schema: templateView },
      '201': { description: 'Created (version 1, or the next version after a delete).', schema: templateView },
    },
    problems: [413, 415],
  },
  {
    method: 'get',
    path: '/api/templates/{name}',
    operationId: 'getTemplate',
    summary: 'A template: the current version, or an earlier one',
    tags: ['templates'],
    auth: 'function',
    pathParams: NAME_PARAM,
    query: templateGetQuery,
    responses: { '200': { description: 'The template.', schema: templateView } },
    problems: [404],
  },
  {
    method: 'delete',
    path: '/api/templates/{name}',
    operationId: 'deleteTemplate',
    summary: 'Delete a template',
    description:
      'New messages can no longer use it. Its versions are kept (GET with ?version=), as are the messages rendered from it; a template ' +
      'created again under the name continues the version numbers.',
    tags: ['templates'],
    auth: 'function',
    pathParams: NAME_PARAM,
    responses: { '204': { description: 'Deleted.' } },
    problems: [404],
  },
  {
    method: 'get',
    path: '/api/templates',
    operationId: 'listTemplates',
    summary: 'The current templates, in name order',
    tags: ['templates'],
    auth: 'function',
    query: templateListQuery,
    responses: { '200': { description: 'A page of templates.', schema: templateListResponse } },
  },
];

/** The {name} of a route, checked: a name that cannot exist is a 400 naming `name`, not a 404. */
export function parseTemplateName(raw: string | undefined): { ok: true; name: string } | { ok: false; result: HttpResult } {
  const parsed = templateNameParam.safeParse(raw ?? '');
  if (parsed.success) return { ok: true, name: parsed.data };
  return {
    ok: false,
    result: validationProblem([{ field: 'name', message: parsed.error.issues[0]?.message ?? 'is not a template name' }]),
  };
}
