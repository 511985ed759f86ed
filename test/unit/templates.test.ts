// Templates: parsing and rendering (every placeholder filled, nothing left over, values cleaned and
// limited), choosing a locale's variant, and the resource's versioning rules.
import { describe, expect, it } from 'vitest';
import { MAX_VARIABLE_VALUE, parseTemplateText, renderTemplate, variantFor } from '../../shared/domain/template.js';
import { templatePutBody, toTemplateView } from '../../shared/http/templates.js';
import { zodFieldErrors } from '../../shared/http/problem.js';
import { deleteTemplate, getTemplate, putTemplate } from '../../shared/pipeline/templates.js';
import { FakeClock, FakeTemplates } from '../support/fakes.js';

describe('template text', () => {
  it('splits text and placeholders; spaces inside the braces do not matter', () => {
    const parsed = parseTemplateText('Hi {{ name }}, see you {{day}} at {{time}}. Bye {{name}}!');
    expect(parsed).toMatchObject({ ok: true, variables: ['name', 'day', 'time'] });
  });

  it.each([
    ['Hi {{name', 'has "{{" without "}}" at character 4'],
    ['Hi name}}', 'has "}}" without "{{" at character 8'],
    ['Hi {{first name}}', 'whose name is not'],
    ['Hi {{1st}}', 'whose name is not'],
    ['{{}}', 'whose name is not'],
  ])('refuses %j', (text, message) => {
    const parsed = parseTemplateText(text);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.message).toContain(message);
  });

  it('renders every placeholder; a missing or extra variable is named', () => {
    expect(renderTemplate('Hi {{name}}, {{day}} at {{time}}', { name: 'Ana', day: 'Tuesday', time: '10:00' })).toEqual({
      ok: true,
      text: 'Hi Ana, Tuesday at 10:00',
    });
    const result = renderTemplate('Hi {{name}}, {{day}}', { name: 'Ana', dya: 'Tuesday' });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors.map((e) => e.variable)).toEqual(['day', 'dya']);
    expect(!result.ok && result.errors[0]!.message).toBe('is missing: the template uses {{day}}');
  });

  it('strips control characters from values and limits their length', () => {
    expect(renderTemplate('Hi {{name}}!', { name: 'A\u0000n\na\u0007\u009b' })).toEqual({ ok: true, text: 'Hi Ana!' });
    expect(renderTemplate('Code {{code}}', { code: 123456 })).toEqual({ ok: true, text: 'Code 123456' });
    const long = renderTemplate('Hi {{name}}', { name: 'x'.repeat(MAX_VARIABLE_VALUE + 1) });
    expect(!long.ok && long.errors[0]).toEqual({
      variable: 'name',
      message: `must be at most ${MAX_VARIABLE_VALUE} characters (got ${MAX_VARIABLE_VALUE + 1})`,
    });
    // A value that is only control characters fits, and renders as nothing.
    expect(renderTemplate('[{{x}}]', { x: '\n'.repeat(MAX_VARIABLE_VALUE + 10) })).toEqual({ ok: true, text: '[]' });
  });

  it('a placeholder inside a value stays text: values are not rendered again', () => {
    expect(renderTemplate('Hi {{name}}', { name: '{{name}}' })).toEqual({ ok: true, text: 'Hi {{name}}' });
  });

  it('chooses the exact locale, else the language, else the default text', () => {
    const t = { text: 'Hello', locales: { de: 'Hallo', 'pt-BR': 'Olá', 'fr-CA': 'Bonjour' } };
    expect(variantFor(t, 'de')).toEqual({ text: 'Hallo', locale: 'de' });
    expect(variantFor(t, 'DE-ch')).toEqual({ text: 'Hallo', locale: 'de' });
    expect(variantFor(t, 'pt-br')).toEqual({ text: 'Olá', locale: 'pt-BR' });
    expect(variantFor(t, 'pt')).toEqual({ text: 'Olá', locale: 'pt-BR' });
    expect(variantFor(t, 'fr')).toEqual({ text: 'Bonjour', locale: 'fr-CA' });
    expect(variantFor(t, 'es')).toEqual({ text: 'Hello' });
    expect(variantFor(t, undefined)).toEqual({ text: 'Hello' });
  });
});

describe('PUT body', () => {
  it('names a bad placeholder and a variant whose variables differ', () => {
    const parsed = templatePutBody.safeParse({
      text: 'Hi {{name}}, {{day}}',
      locales: { de: 'Hallo {{name}}', fr: 'Salut {{name}} {{day}} {{time}}', es: 'Hola {{nombre' },
      category: 'transactional',
    });
    expect(parsed.success).toBe(false);
    const errors = zodFieldErrors(parsed.error!);
    expect(errors).toContainEqual({
      field: 'locales.de',
      message: 'must use the same variables as the default text; it lacks {{day}}',
    });
    expect(errors).toContainEqual({
      field: 'locales.fr',
      message: 'must use the same variables as the default text; it adds {{time}}',
    });
    expect(errors.find((e) => e.field === 'locales.es')?.message).toContain('without "}}"');
  });

  it('needs a category and refuses unknown fields', () => {
    const parsed = templatePutBody.safeParse({ text: 'Hi', kind: 'x' });
    expect(
      zodFieldErrors(parsed.error!)
        .map((e) => e.field)
        .sort(),
    ).toEqual(['(body)', 'category']);
  });
});

describe('the templates resource', () => {
  const deps = () => ({ templates: new FakeTemplates(), clock: new FakeClock() });
  const content = (text: string) => ({ name: 'appointment-reminder', text, locales: {}, category: 'transactional' as const });

  it('creates version 1, changes make the next version, the same content changes nothing', async () => {
    const d = deps();
    expect(await putTemplate(d, content('Hi {{name}}'))).toMatchObject({ kind: 'created', template: { version: 1 } });
    expect(await putTemplate(d, content('Hi {{name}}'))).toMatchObject({ kind: 'unchanged', template: { version: 1 } });
    d.clock.advance(1000);
    const changed = await putTemplate(d, content('Hello {{name}}'));
    expect(changed).toMatchObject({
      kind: 'updated',
      template: { version: 2, createdAt: '2026-11-25T10:00:00.000Z', updatedAt: '2026-11-25T10:00:01.000Z' },
    });
    expect(toTemplateView(changed.template).variables).toEqual(['name']);
    expect((await getTemplate(d, 'appointment-reminder', 1))!.text).toBe('Hi {{name}}');
  });

  it('after a delete the name is free, and its versions go on from where they were', async () => {
    const d = deps();
    await putTemplate(d, content('one'));
    await putTemplate(d, content('two'));
    expect(await deleteTemplate(d, 'appointment-reminder')).toBe('deleted');
    expect(await deleteTemplate(d, 'appointment-reminder')).toBe('notFound');
    expect(await getTemplate(d, 'appointment-reminder')).toBeUndefined();
    expect((await getTemplate(d, 'appointment-reminder', 2))!.text).toBe('two');
    expect(await putTemplate(d, content('three'))).toMatchObject({ kind: 'created', template: { version: 3 } });
  });

  it('two writers at once make two versions, never one number twice', async () => {
    const d = deps();
    await putTemplate(d, content('zero'));
    const results = await Promise.all([putTemplate(d, content('a')), putTemplate(d, content('b'))]);
    expect(results.map((r) => r.template.version).sort()).toEqual([2, 3]);
  });
});
