import { describe, expect, it } from 'vitest';
import { bibsFromLines, dedupeBibs, parseBibNumber, torsoRegion } from './bib-number.js';

const rules = { minDigits: 1, maxDigits: 6, minConfidence: 0.8 };
const box = { x1: 0, y1: 0, x2: 10, y2: 10 };

describe('parseBibNumber', () => {
  it('reads digit strings, with spaces, # and No. prefixes', () => {
    expect(parseBibNumber('1234', rules)).toBe('1234');
    expect(parseBibNumber(' 12 34 ', rules)).toBe('1234');
    expect(parseBibNumber('#42', rules)).toBe('42');
    expect(parseBibNumber('No. 7', rules)).toBe('7');
    expect(parseBibNumber('0815', rules)).toBe('0815');
  });
  it('maps one look-alike letter inside a number, never more', () => {
    expect(parseBibNumber('1O5', rules)).toBe('105');
    expect(parseBibNumber('l23', rules)).toBe('123');
    expect(parseBibNumber('O', rules)).toBeNull();
    expect(parseBibNumber('OO1', rules)).toBeNull();
  });
  it('refuses text, times, dates and lengths out of range', () => {
    for (const t of ['BERLIN 2024', 'ROAD', '10:45', '2024-05-01', '12.5km', '', 'A12']) expect(parseBibNumber(t, rules), t).toBeNull();
    expect(parseBibNumber('1234567', rules)).toBeNull();
    expect(parseBibNumber('7', { minDigits: 2, maxDigits: 5 })).toBeNull();
  });
});

describe('bibsFromLines', () => {
  it('keeps confident number lines only', () => {
    const got = bibsFromLines(
      [
        { text: '512', confidence: 0.97, box },
        { text: '88', confidence: 0.5, box },
        { text: 'CITY RUN', confidence: 0.99, box },
      ],
      rules,
    );
    expect(got).toEqual([{ number: '512', confidence: 0.97, box }]);
  });
});

describe('dedupeBibs', () => {
  it('keeps one reading of a number at one place, the best', () => {
    const a = { number: '5', confidence: 0.9, box };
    const b = { number: '5', confidence: 0.95, box: { x1: 1, y1: 0, x2: 11, y2: 10 } };
    const elsewhere = { number: '5', confidence: 0.85, box: { x1: 100, y1: 100, x2: 110, y2: 110 } };
    expect(dedupeBibs([a, b, elsewhere])).toEqual([b, elsewhere]);
  });
});

describe('torsoRegion', () => {
  it('skips the head and the legs', () => {
    expect(torsoRegion({ x1: 10, y1: 100, x2: 60, y2: 300 })).toEqual({ x1: 10, y1: 124, x2: 60, y2: 270 });
  });
});
