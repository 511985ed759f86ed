// The three forms of a send request, and how each becomes drafts — one per message, in request
// order, with where in the request its parts came from — so that everything after (numbers, texts,
// senders, opt-outs) is planned one way for all three:
// - one text to one or many numbers (`to` + `message`);
// - a text of its own per message (`messages`);
// - a template rendered per recipient (`template` + `to` with `variables`).
import { renderTemplate, variantFor, type TemplateCategory, type TemplateRef } from '../../domain/template.js';
import type { MessageCategory } from '../../domain/category.js';
import type { FieldError } from '../../domain/validation.js';
import type { TemplateStore } from '../../ports/templates.js';

/** Options every form has. */
export interface SubmitOptions {
  /** A sender of the pool; without it, each recipient gets its sticky sender. */
  from?: string;
  tag?: string;
  metadata?: Record<string, string>;
  deliveryReport: boolean;
  /** ISO 8601; not handed to ACS before then. */
  scheduledAt?: string;
  /** Seconds after scheduledAt (or now) by which the message must be handed to ACS. */
  validFor?: number;
  smartEncoding: boolean;
  /** Accept the valid messages and report the invalid ones. */
  partial: boolean;
  /** The app's own id, for every message of the request (a message's own wins). */
  reference?: string;
  /** Replace every http(s) URL with a tracked short link per message; without it, the LINK_TRACKING setting decides. */
  trackLinks?: boolean;
  /** The messages' category (send rules); else the template's, the tag's (SMS_CATEGORY_BY_TAG), transactional. */
  category?: MessageCategory;
}

/** One text to one recipient or several, as the app wrote them. */
export interface TextRequest extends SubmitOptions {
  to: string | string[];
  message: string;
}

export interface PersonalMessage {
  to: string;
  text: string;
  /** Laid over the request's metadata. */
  metadata?: Record<string, string>;
  scheduledAt?: string;
  reference?: string;
}

/** A text of its own per message. */
export interface MessagesRequest extends SubmitOptions {
  messages: PersonalMessage[];
}

export interface TemplateRecipient {
  to: string;
  variables: Record<string, string | number | boolean>;
  metadata?: Record<string, string>;
  reference?: string;
}

/** A template, rendered for each recipient with its variables. */
export interface TemplateRequest extends SubmitOptions {
  template: string;
  /** Which variant: the exact tag, else the language, else the default text. */
  locale?: string;
  to: TemplateRecipient[];
}

/** What the app asks for (POST /api/messages, validated). */
export type SubmitRequest = TextRequest | MessagesRequest | TemplateRequest;

export type RequestForm = 'text' | 'messages' | 'template';

export function formOf(request: SubmitRequest): RequestForm {
  if ('messages' in request) return 'messages';
  if ('template' in request) return 'template';
  return 'text';
}

/** One message as the request gave it, before its number and text are checked. */
export interface Draft {
  /** The entry in the request ("messages[3]", "to[3]"); for rejected entries. */
  entry: string;
  /** Where its number is, and its text or what makes it ("message", "messages[3].text", "to[3].variables"). */
  toField: string;
  textField: string;
  to: string;
  text: string;
  metadata?: Record<string, string>;
  scheduledAt?: string;
  scheduledAtField?: string;
  reference?: string;
  /** What is already wrong with it (a variable missing …): it is rejected, or the request is. */
  errors: FieldError[];
}

export interface Drafts {
  form: RequestForm;
  drafts: Draft[];
  /** The template the texts come from, with the version that rendered them. */
  template?: TemplateRef & { category: TemplateCategory };
  /** What is wrong with the request as a whole: no partial acceptance helps. */
  errors: FieldError[];
}

export async function draftsOf(templates: TemplateStore, request: SubmitRequest): Promise<Drafts> {
  const merged = (own?: Record<string, string>) => (own ? { ...request.metadata, ...own } : request.metadata);
  const form = formOf(request);
  if (form === 'text') {
    const r = request as TextRequest;
    const list = Array.isArray(r.to) ? r.to : [r.to];
    const drafts = list.map((to, i) => {
      const field = Array.isArray(r.to) ? `to[${i}]` : 'to';
      return draft({
        entry: field,
        toField: field,
        textField: 'message',
        to,
        text: r.message,
        metadata: request.metadata,
        reference: request.reference,
      });
    });
    return { form, drafts, errors: [] };
  }
  if (form === 'messages') {
    const drafts = (request as MessagesRequest).messages.map((m, i) =>
      draft({
        entry: `messages[${i}]`,
        toField: `messages[${i}].to`,
        textField: `messages[${i}].text`,
        to: m.to,
        text: m.text,
        metadata: merged(m.metadata),
        scheduledAt: m.scheduledAt,
        scheduledAtField: `messages[${i}].scheduledAt`,
        reference: m.reference ?? request.reference,
      }),
    );
    return { form, drafts, errors: [] };
  }
  const r = request as TemplateRequest;
  const template = (await templates.head(r.template))?.template;
  if (!template) return { form, drafts: [], errors: [{ field: 'template', message: `no template is named "${r.template}"` }] };
  const variant = variantFor(template, r.locale);
  const drafts = r.to.map((recipient, i) => {
    const rendered = renderTemplate(variant.text, recipient.variables);
    return draft({
      entry: `to[${i}]`,
      toField: `to[${i}].to`,
      textField: `to[${i}].variables`,
      to: recipient.to,
      text: rendered.ok ? rendered.text : '',
      metadata: merged(recipient.metadata),
      reference: recipient.reference ?? request.reference,
      errors: rendered.ok ? [] : rendered.errors.map((e) => ({ field: `to[${i}].variables.${e.variable}`, message: e.message })),
    });
  });
  return {
    form,
    drafts,
    template: {
      name: template.name,
      version: template.version,
      ...(variant.locale ? { locale: variant.locale } : {}),
      category: template.category,
    },
    errors: [],
  };
}

function draft(
  d: Omit<Draft, 'errors' | 'metadata' | 'scheduledAt' | 'reference'> & {
    metadata?: Record<string, string> | undefined;
    scheduledAt?: string | undefined;
    reference?: string | undefined;
    errors?: FieldError[];
  },
): Draft {
  return {
    entry: d.entry,
    toField: d.toField,
    textField: d.textField,
    to: d.to,
    text: d.text,
    ...(d.metadata ? { metadata: d.metadata } : {}),
    ...(d.scheduledAt ? { scheduledAt: d.scheduledAt, scheduledAtField: d.scheduledAtField! } : {}),
    ...(d.reference ? { reference: d.reference } : {}),
    errors: d.errors ?? [],
  };
}
