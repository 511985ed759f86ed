// Message categories: what kind of text a message is, which decides the send rules it is under
// (quiet hours, frequency caps; docs/sending.md). A message's category comes from the request,
// else its template, else its tag (SMS_CATEGORY_BY_TAG), else it is transactional.

export const MESSAGE_CATEGORIES = ['transactional', 'marketing', 'otp'] as const;
export type MessageCategory = (typeof MESSAGE_CATEGORIES)[number];
export const DEFAULT_CATEGORY: MessageCategory = 'transactional';

export function isCategory(value: unknown): value is MessageCategory {
  return typeof value === 'string' && (MESSAGE_CATEGORIES as readonly string[]).includes(value);
}

/** Categories by tag, from SMS_CATEGORY_BY_TAG ("promo=marketing,login=otp"). */
export type CategoriesByTag = ReadonlyMap<string, MessageCategory>;

export function parseCategoriesByTag(text: string): { ok: true; byTag: CategoriesByTag } | { ok: false; message: string } {
  const byTag = new Map<string, MessageCategory>();
  for (const part of text.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    const [tag, category, extra] = part.split('=').map((p) => p.trim());
    if (!tag || extra !== undefined || !isCategory(category))
      return {
        ok: false,
        message: `"${part.slice(0, 80)}" is not tag=category (category one of ${MESSAGE_CATEGORIES.join(', ')}), for example promo=marketing,login=otp`,
      };
    byTag.set(tag, category);
  }
  return { ok: true, byTag };
}

/** A message's category: the request's, else its template's, else its tag's, else transactional. */
export function categoryOf(
  sources: { requested?: MessageCategory | undefined; template?: MessageCategory | undefined; tag?: string | undefined },
  byTag: CategoriesByTag,
): MessageCategory {
  return (
    sources.requested ?? sources.template ?? (sources.tag !== undefined ? byTag.get(sources.tag) : undefined) ?? DEFAULT_CATEGORY
  );
}
