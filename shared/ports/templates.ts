// Message templates, by name: the current version of each, and every version ever written.
import type { Template } from '../domain/template.js';
import type { Page, PageRequest } from './paging.js';

/** What the store holds under a name: the current template (none after a delete) and the last version number ever used. */
export interface TemplateHead {
  template?: Template;
  lastVersion: number;
  /** Optimistic concurrency token of the head. */
  etag: string;
}

export interface TemplateStore {
  /** The head of `name`; undefined when no template of that name was ever written. */
  head(name: string): Promise<TemplateHead | undefined>;
  /** One version as it was written; versions are kept after a delete (their messages name them). */
  version(name: string, version: number): Promise<Template | undefined>;
  /**
   * Makes `template` the current version and keeps it as that version, in one write; conditional on
   * the head's `etag` (undefined: no head yet). Throws ConcurrencyError when another writer came first.
   */
  write(template: Template, etag: string | undefined): Promise<void>;
  /** Deletes the current template, keeping its versions and the version count; conditional like write. */
  remove(name: string, head: Pick<TemplateHead, 'etag' | 'lastVersion'>): Promise<void>;
  /** Current templates in name order, a page at a time. */
  list(options: PageRequest): Promise<Page<Template>>;
}
