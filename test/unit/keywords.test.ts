import { describe, expect, it } from 'vitest';
import { classifyKeyword, DEFAULT_KEYWORDS } from '../../shared/domain/keywords.js';

describe('classifyKeyword', () => {
  it('knows every default keyword', () => {
    for (const k of DEFAULT_KEYWORDS.optOut) expect(classifyKeyword(k), k).toBe('optOut');
    for (const k of DEFAULT_KEYWORDS.optIn) expect(classifyKeyword(k), k).toBe('optIn');
    for (const k of DEFAULT_KEYWORDS.help) expect(classifyKeyword(k), k).toBe('help');
  });

  it('ignores case, surrounding spaces, repeated inner spaces and trailing punctuation', () => {
    for (const text of ['Stop', '  stop ', 'STOP!', 'stop.', 'opt   out', 'Opt-Out', '\tunsubscribe\n', 'ＳＴＯＰ']) {
      expect(classifyKeyword(text), JSON.stringify(text)).toBe('optOut');
    }
    expect(classifyKeyword(' start ')).toBe('optIn');
    expect(classifyKeyword('help?')).toBeNull();
  });

  it('does not treat a keyword inside a sentence as a command', () => {
    expect(classifyKeyword('Please stop by the office')).toBeNull();
    expect(classifyKeyword('stop it')).toBeNull();
    expect(classifyKeyword('yes please')).toBeNull();
    expect(classifyKeyword('')).toBeNull();
  });

  it('uses custom lists when given', () => {
    const lists = { optOut: ['BASTA'], optIn: ['ALLEZ'], help: ['AIDE'] };
    expect(classifyKeyword('basta', lists)).toBe('optOut');
    expect(classifyKeyword('stop', lists)).toBeNull();
    expect(classifyKeyword('aide', lists)).toBe('help');
  });
});
