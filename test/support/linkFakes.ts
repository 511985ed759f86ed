// The tracked-link store in memory, behaving as the Table Storage one does (insert-if-absent per
// code, etag-conditional visits, a first-click mark inserted once), and the link policy of tests.
import { randomBytes } from 'node:crypto';
import type { LinkPolicy, LinkVisits, TrackedLink } from '../../shared/domain/links.js';
import { ConcurrencyError } from '../../shared/ports/errors.js';
import type { LinkStore, StoredLink } from '../../shared/ports/links.js';

/** Tracking off unless a request asks; short links under https://go.example.test. */
export const TEST_LINK_POLICY: LinkPolicy = {
  base: 'https://go.example.test',
  tracking: { default: false, tags: {}, templates: {} },
  utm: {},
  expiryDays: 90,
};

export class FakeLinkStore implements LinkStore {
  readonly links = new Map<string, { link: TrackedLink; visits: LinkVisits; version: number }>();
  readonly clicked = new Map<string, string>();
  private readonly key: Uint8Array;
  /** Counts reads, so a test can see the redirect makes one. */
  reads = 0;

  constructor(key: Uint8Array = randomBytes(32)) {
    this.key = key;
  }

  async codeKey(): Promise<Uint8Array> {
    return this.key;
  }

  async save(links: readonly TrackedLink[]): Promise<TrackedLink[]> {
    const taken: TrackedLink[] = [];
    for (const link of links) {
      const existing = this.links.get(link.code);
      if (!existing) this.links.set(link.code, { link: structuredClone(link), visits: { clicks: 0, previews: 0 }, version: 1 });
      else if (existing.link.messageId !== link.messageId || existing.link.index !== link.index) taken.push(link);
    }
    return taken;
  }

  async get(code: string): Promise<StoredLink | undefined> {
    this.reads++;
    const e = this.links.get(code);
    return e ? { link: structuredClone(e.link), visits: { ...e.visits }, etag: String(e.version) } : undefined;
  }

  async saveVisits(code: string, visits: LinkVisits, etag: string): Promise<void> {
    const e = this.links.get(code);
    if (!e || String(e.version) !== etag) throw new ConcurrencyError('the link changed meanwhile');
    e.visits = { ...visits };
    e.version++;
  }

  async claimFirstClick(messageId: string, at: string): Promise<boolean> {
    if (this.clicked.has(messageId)) return false;
    this.clicked.set(messageId, at);
    return true;
  }

  async erase(codes: readonly string[], messageIds: readonly string[]): Promise<void> {
    for (const c of codes) this.links.delete(c);
    for (const m of messageIds) this.clicked.delete(m);
  }
}
