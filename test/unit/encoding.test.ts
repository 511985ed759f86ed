import { describe, expect, it } from 'vitest';
import { analyzeMessage, GSM7_BASIC, GSM7_EXTENSION } from '../../shared/domain/encoding.js';

const gsm = (text: string) => analyzeMessage(text, { smartEncoding: false });

describe('GSM-7', () => {
  it('keeps every character of the basic table in GSM-7, one septet each', () => {
    for (const ch of GSM7_BASIC.replace('\u001b', '')) {
      const a = gsm(ch);
      expect(a.encoding, JSON.stringify(ch)).toBe('GSM-7');
      expect(a.units).toBe(1);
    }
  });

  it('counts each extension character as two septets', () => {
    for (const ch of GSM7_EXTENSION) {
      const a = gsm(ch);
      expect(a.encoding).toBe('GSM-7');
      expect(a.units, JSON.stringify(ch)).toBe(2);
    }
    expect(gsm('€10 [sale]').units).toBe(13);
  });

  it('fits 160 septets in one segment and needs two for 161', () => {
    expect(gsm('a'.repeat(160))).toMatchObject({ segments: 1, units: 160, unitsPerSegment: 160 });
    expect(gsm('a'.repeat(161))).toMatchObject({ segments: 2, units: 161, unitsPerSegment: 153 });
    expect(gsm('a'.repeat(306)).segments).toBe(2);
    expect(gsm('a'.repeat(307)).segments).toBe(3);
    expect(gsm('€'.repeat(80)).segments).toBe(1); // 160 septets
    expect(gsm('€'.repeat(81)).segments).toBe(2);
  });

  it('never splits an escape pair: an extension character at a boundary moves to the next segment', () => {
    // 152 septets then "€" (2) → the pair would straddle 153, so segment 2 starts with it.
    expect(gsm(`${'a'.repeat(152)}€${'a'.repeat(8)}`).units).toBe(162);
    expect(gsm(`${'a'.repeat(152)}€${'a'.repeat(152)}`).segments).toBe(3);
    expect(gsm(`${'a'.repeat(151)}€${'a'.repeat(153)}`).segments).toBe(2);
  });

  it('reports 0 segments for an empty text', () => {
    expect(gsm('').segments).toBe(0);
  });
});

describe('UCS-2', () => {
  it('one character outside GSM-7 makes the whole message UCS-2', () => {
    expect(gsm('Hello 世界')).toMatchObject({ encoding: 'UCS-2', units: 8 });
    expect(gsm('ç')).toMatchObject({ encoding: 'UCS-2' }); // lower-case c cedilla is not in GSM-7 (only Ç is)
  });

  it('fits 70 code units in one segment and needs two for 71', () => {
    expect(gsm('世'.repeat(70))).toMatchObject({ segments: 1, unitsPerSegment: 70 });
    expect(gsm('世'.repeat(71))).toMatchObject({ segments: 2, unitsPerSegment: 67 });
    expect(gsm('世'.repeat(134)).segments).toBe(2);
    expect(gsm('世'.repeat(135)).segments).toBe(3);
  });

  it('counts an emoji as two code units and never splits its surrogate pair', () => {
    expect(gsm('😀')).toMatchObject({ encoding: 'UCS-2', units: 2, segments: 1 });
    expect(gsm('😀'.repeat(35)).segments).toBe(1); // 70 units
    expect(gsm('😀'.repeat(36)).segments).toBe(2); // 72 units
    // 66 units then an emoji: the pair cannot straddle unit 67, so it starts segment 2.
    expect(gsm(`${'世'.repeat(66)}😀${'世'.repeat(66)}`).segments).toBe(3);
    expect(gsm(`${'世'.repeat(65)}😀${'世'.repeat(67)}`).segments).toBe(2);
  });
});

describe('smart encoding', () => {
  it('replaces typographic characters when that keeps the message in GSM-7', () => {
    const a = analyzeMessage('\u201cSee you\u201d \u2014 it\u2019s at 10\u2026');
    expect(a).toMatchObject({ text: '"See you" - it\'s at 10...', encoding: 'GSM-7', replacements: 5 });
    expect(analyzeMessage('a\u00a0b')).toMatchObject({ text: 'a b', encoding: 'GSM-7' });
  });

  it('is off when asked', () => {
    expect(analyzeMessage('it\u2019s', { smartEncoding: false })).toMatchObject({ encoding: 'UCS-2', replacements: 0 });
  });

  it('keeps the original when replacing would not make it GSM-7 anyway', () => {
    const text = 'it\u2019s 世界';
    expect(analyzeMessage(text)).toMatchObject({ text, encoding: 'UCS-2', replacements: 0 });
  });
});
