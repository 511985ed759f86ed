// Message templates: a text with {{variable}} placeholders, optional per-locale variants, and the
// one way a template is rendered for a recipient — every placeholder filled, no variable left over,
// each value limited in length and stripped of control characters. The rendered text is what the
// message record keeps and what is sent; the template's name and version travel with it.
import { MESSAGE_CATEGORIES, type MessageCategory } from './category.js';

/** Names: what the URL and analytics carry. */
export const TEMPLATE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** A variable's name inside {{ }}. */
export const VARIABLE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,39}$/;
/** BCP 47-like language tags: "de", "pt-BR", "zh-Hant-TW". */
export const LOCALE_PATTERN = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/;
/** Longest a template text (or a variant) may be, as a message text may be. */
export const MAX_TEMPLATE_TEXT = 2048;
export const MAX_TEMPLATE_LOCALES = 50;
export const MAX_VARIABLES = 20;
/** Longest a variable's value may be once its control characters are gone. */
export const MAX_VARIABLE_VALUE = 256;

/** A template's category is its messages' (domain/category.ts), unless the request names one. */
export const TEMPLATE_CATEGORIES = MESSAGE_CATEGORIES;
export type TemplateCategory = MessageCategory;

/** What a PUT says a template is. */
export interface TemplateContent {
  name: string;
  /** The default text, used when no variant matches the locale asked for. */
  text: string;
  /** Variants by locale. */
  locales: Record<string, string>;
  description?: string;
  category: TemplateCategory;
}

/** A template as stored: its content, and which version of it this is. */
export interface Template extends TemplateContent {
  /** 1 for the first content, one more for every change; never reused, even after a delete. */
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** How a rendered message names its template (record, send job, events, analytics). */
export interface TemplateRef {
  name: string;
  version: number;
  /** The variant used; absent for the default text. */
  locale?: string;
}

type Part = string | { variable: string };

/** A template text split into literal text and placeholders, or what is wrong with it. */
export function parseTemplateText(
  text: string,
): { ok: true; parts: Part[]; variables: string[] } | { ok: false; message: string } {
  const parts: Part[] = [];
  const variables: string[] = [];
  let at = 0;
  while (at < text.length) {
    const open = text.indexOf('{{', at);
    const strayClose = text.indexOf('}}', at);
    if (strayClose !== -1 && (open === -1 || strayClose < open))
      return { ok: false, message: `has "}}" without "{{" at character ${strayClose + 1}` };
    if (open === -1) {
      parts.push(text.slice(at));
      break;
    }
    if (open > at) parts.push(text.slice(at, open));
    const close = text.indexOf('}}', open + 2);
    if (close === -1) return { ok: false, message: `has "{{" without "}}" at character ${open + 1}` };
    const name = text.slice(open + 2, close).trim();
    if (!VARIABLE_NAME_PATTERN.test(name)) {
      return {
        ok: false,
        message: `has a placeholder "{{${text.slice(open + 2, close).slice(0, 40)}}}" whose name is not 1-40 letters, digits or _ (not starting with a digit)`,
      };
    }
    parts.push({ variable: name });
    if (!variables.includes(name)) variables.push(name);
    at = close + 2;
  }
  if (variables.length > MAX_VARIABLES)
    return { ok: false, message: `uses ${variables.length} variables; at most ${MAX_VARIABLES} are allowed` };
  return { ok: true, parts, variables };
}

/** The variables a template's text uses, in order of first use ([] when the text is invalid). */
export function variablesOf(text: string): string[] {
  const parsed = parseTemplateText(text);
  return parsed.ok ? parsed.variables : [];
}

/**
 * The variant for `locale`: the exact tag (case-insensitive), else the same language ("de" for
 * "de-CH", or a "de-AT" variant for "de"), else the default text.
 */
export function variantFor(
  template: Pick<Template, 'text' | 'locales'>,
  locale: string | undefined,
): { text: string; locale?: string } {
  if (!locale) return { text: template.text };
  const tags = Object.keys(template.locales);
  const wanted = locale.toLowerCase();
  const exact = tags.find((t) => t.toLowerCase() === wanted);
  if (exact) return { text: template.locales[exact]!, locale: exact };
  const language = wanted.split('-')[0]!;
  const sameLanguage =
    tags.find((t) => t.toLowerCase() === language) ?? tags.find((t) => t.toLowerCase().split('-')[0] === language);
  if (sameLanguage) return { text: template.locales[sameLanguage]!, locale: sameLanguage };
  return { text: template.text };
}

/** A value as it goes into a text: its control characters (line breaks included) removed. */
export function cleanVariableValue(value: string | number | boolean): string {
  // Control characters in a value could break lines or hide text in someone else's message.
  // eslint-disable-next-line no-control-regex
  return String(value).replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
}

export type RenderResult = { ok: true; text: string } | { ok: false; errors: Array<{ variable: string; message: string }> };

/**
 * Renders `text` with `values`: every placeholder must have a value and every value a placeholder.
 * Values are cleaned (cleanVariableValue) and at most MAX_VARIABLE_VALUE characters long.
 */
export function renderTemplate(text: string, values: Readonly<Record<string, string | number | boolean>>): RenderResult {
  const parsed = parseTemplateText(text);
  if (!parsed.ok) return { ok: false, errors: [{ variable: '', message: `the template ${parsed.message}` }] };
  const errors: Array<{ variable: string; message: string }> = [];
  const clean = new Map<string, string>();
  for (const name of parsed.variables) {
    const value = Object.hasOwn(values, name) ? values[name] : undefined;
    if (value === undefined) {
      errors.push({ variable: name, message: `is missing: the template uses {{${name}}}` });
      continue;
    }
    const cleaned = cleanVariableValue(value);
    if (cleaned.length > MAX_VARIABLE_VALUE)
      errors.push({ variable: name, message: `must be at most ${MAX_VARIABLE_VALUE} characters (got ${cleaned.length})` });
    else clean.set(name, cleaned);
  }
  for (const name of Object.keys(values)) {
    if (!parsed.variables.includes(name)) {
      errors.push({
        variable: name,
        message: `is not used by the template (it uses ${parsed.variables.length ? parsed.variables.map((v) => `{{${v}}}`).join(', ') : 'no variables'})`,
      });
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, text: parsed.parts.map((p) => (typeof p === 'string' ? p : clean.get(p.variable)!)).join('') };
}

/** Whether a PUT would change the template (a new version) or repeat it. */
export function sameContent(a: TemplateContent, b: TemplateContent): boolean {
  const locales = (t: TemplateContent) => JSON.stringify(Object.entries(t.locales).sort(([x], [y]) => x.localeCompare(y)));
  return (
    a.text === b.text && a.category === b.category && (a.description ?? '') === (b.description ?? '') && locales(a) === locales(b)
  );
}

/** "appointment-reminder@3": how analytics names a template version. */
export function templateKey(ref: Pick<TemplateRef, 'name' | 'version'>): string {
  return `${ref.name}@${ref.version}`;
}
