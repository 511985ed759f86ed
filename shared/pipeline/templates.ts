// Templates as a resource: PUT creates or changes one (a change is a new version; the same content
// again changes nothing), GET reads the current or an older version, DELETE removes the current one
// while its versions stay (the messages rendered from them name them, and analytics counts by them).
import { sameContent, type Template, type TemplateContent } from '../domain/template.js';
import type { Page, PageRequest } from '../ports/paging.js';
import type { Clock } from '../ports/runtime.js';
import type { TemplateStore } from '../ports/templates.js';
import { retryOnConflict } from './optimistic.js';

export interface TemplateDeps {
  templates: TemplateStore;
  clock: Clock;
}

export type PutTemplateResult = { kind: 'created' | 'updated' | 'unchanged'; template: Template };

export async function putTemplate(deps: TemplateDeps, content: TemplateContent): Promise<PutTemplateResult> {
  return retryOnConflict(async () => {
    const head = await deps.templates.head(content.name);
    const current = head?.template;
    if (current && sameContent(current, content)) return { kind: 'unchanged', template: current };
    const now = deps.clock.now().toISOString();
    const template: Template = {
      ...content,
      version: (head?.lastVersion ?? 0) + 1,
      createdAt: current?.createdAt ?? now,
      updatedAt: now,
    };
    await deps.templates.write(template, head?.etag);
    return { kind: current ? 'updated' : 'created', template };
  });
}

/** The current template, or one of its versions (kept after a delete). */
export async function getTemplate(
  deps: Pick<TemplateDeps, 'templates'>,
  name: string,
  version?: number,
): Promise<Template | undefined> {
  if (version !== undefined) return deps.templates.version(name, version);
  return (await deps.templates.head(name))?.template;
}

export async function deleteTemplate(deps: Pick<TemplateDeps, 'templates'>, name: string): Promise<'deleted' | 'notFound'> {
  return retryOnConflict(async () => {
    const head = await deps.templates.head(name);
    if (!head?.template) return 'notFound';
    await deps.templates.remove(name, head);
    return 'deleted';
  });
}

export function listTemplates(deps: Pick<TemplateDeps, 'templates'>, page: PageRequest): Promise<Page<Template>> {
  return deps.templates.list(page);
}
