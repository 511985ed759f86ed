// The TemplateStore contract, run against the fake (test/unit) and the Table Storage adapter on
// Azurite (test/integration): a head written conditionally, versions kept after a delete, listing
// in name order.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Template } from '../../../shared/domain/template.js';
import { ConcurrencyError } from '../../../shared/ports/errors.js';
import type { TemplateStore } from '../../../shared/ports/templates.js';

const freshName = (prefix = 't') => `${prefix}-${randomUUID().slice(0, 8)}`;

function template(name: string, version: number, text: string): Template {
  return {
    name,
    version,
    text,
    locales: { de: `${text} (de)`, 'pt-BR': `${text} (pt)` },
    description: 'a test template',
    category: 'transactional',
    createdAt: '2026-11-25T10:00:00.000Z',
    updatedAt: `2026-11-25T10:00:0${version}.000Z`,
  };
}

export function templateStoreContract(name: string, make: () => Promise<TemplateStore>) {
  describe(`TemplateStore contract: ${name}`, () => {
    it('writes a version and its head together; a second writer from the same head loses', async () => {
      const store = await make();
      const n = freshName();
      expect(await store.head(n)).toBeUndefined();
      await store.write(template(n, 1, 'Hi {{name}}'), undefined);
      const head = (await store.head(n))!;
      expect(head).toMatchObject({ lastVersion: 1, template: template(n, 1, 'Hi {{name}}') });
      await expect(store.write(template(n, 1, 'again'), undefined)).rejects.toBeInstanceOf(ConcurrencyError);

      await store.write(template(n, 2, 'Hello {{name}}'), head.etag);
      await expect(store.write(template(n, 2, 'racing'), head.etag)).rejects.toBeInstanceOf(ConcurrencyError);
      expect((await store.head(n))!.template!.text).toBe('Hello {{name}}');
      expect((await store.version(n, 1))!.text).toBe('Hi {{name}}');
      expect(await store.version(n, 3)).toBeUndefined();
    });

    it('a delete keeps the versions and the count, so the name continues where it was', async () => {
      const store = await make();
      const n = freshName();
      await store.write(template(n, 1, 'one'), undefined);
      const head = (await store.head(n))!;
      await store.remove(n, head);
      await expect(store.remove(n, head)).rejects.toBeInstanceOf(ConcurrencyError);
      const after = (await store.head(n))!;
      expect(after.template).toBeUndefined();
      expect(after.lastVersion).toBe(1);
      expect((await store.version(n, 1))!.text).toBe('one');
      await store.write(template(n, 2, 'two'), after.etag);
      expect((await store.head(n))!.template!.version).toBe(2);
    });

    it('keeps a large template whole', async () => {
      const store = await make();
      const n = freshName();
      const big: Template = {
        ...template(n, 1, 'x'.repeat(2048)),
        locales: Object.fromEntries(
          Array.from({ length: 50 }, (_, i) => [`l${String.fromCharCode(97 + (i % 26))}-${i}x`, `ü${i}`.repeat(1000)]),
        ),
      };
      await store.write(big, undefined);
      expect((await store.head(n))!.template).toEqual(big);
    });

    it('lists current templates in name order, a page at a time, without deleted ones', async () => {
      const store = await make();
      const prefix = freshName('list');
      for (const suffix of ['c', 'a', 'b', 'd']) await store.write(template(`${prefix}-${suffix}`, 1, suffix), undefined);
      const d = (await store.head(`${prefix}-d`))!;
      await store.remove(`${prefix}-d`, d);
      const names: string[] = [];
      let token: string | undefined;
      do {
        const page = await store.list({ limit: 2, ...(token ? { continuationToken: token } : {}) });
        names.push(...page.items.map((t) => t.name).filter((x) => x.startsWith(prefix)));
        token = page.continuationToken;
      } while (token);
      expect(names).toEqual([`${prefix}-a`, `${prefix}-b`, `${prefix}-c`]);
    });
  });
}
