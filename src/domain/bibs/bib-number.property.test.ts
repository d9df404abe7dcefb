/**
 * Properties of bib-number parsing over arbitrary OCR text: it never throws, and what it returns is a digit string
 * whose length obeys the rules; digit strings in range are read back unchanged, with spaces, a '#'/"No" prefix or
 * one look-alike letter; the line filters only ever drop and dedupe.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { iou } from '../geometry.js';
import { bibsFromLines, dedupeBibs, parseBibNumber, type BibCandidate } from './bib-number.js';

/** Rules as the settings allow them (1..10 digits each), including min > max, which checkSettingsAgree refuses. */
const rules = fc.record({ minDigits: fc.integer({ min: 1, max: 10 }), maxDigits: fc.integer({ min: 1, max: 10 }) });
/** Rules with min <= max, the only ones settings let through. */
const sane = rules.map((r) => ({ minDigits: Math.min(r.minDigits, r.maxDigits), maxDigits: Math.max(r.minDigits, r.maxDigits) }));

/** OCR-like text: digits, look-alike letters, prefixes, spaces and punctuation much more often than chance. */
const ocrUnit = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...'0123456789') },
  { weight: 2, arbitrary: fc.constantFrom(...['O', 'o', 'I', 'l', '|', 'S', '#', 'No', 'nr.'], ...[' ', '\t', '.', '-', '_', "'", '"', '`', ':', 'A', '٣', '１']) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);
const text = fc.oneof(fc.string({ unit: ocrUnit, maxLength: 14 }), fc.string({ unit: 'binary', maxLength: 30 }), fc.string({ maxLength: 30 }));
const digits = (min: number, max: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });

describe('parseBibNumber properties', () => {
  it('never throws, and returns null or only ASCII digits within minDigits..maxDigits', () => {
    fc.assert(
      fc.property(text, rules, (t, r) => {
        const out = parseBibNumber(t, r);
        if (out === null) return;
        expect(out).toMatch(/^[0-9]+$/);
        expect(out.length).toBeGreaterThanOrEqual(r.minDigits);
        expect(out.length).toBeLessThanOrEqual(r.maxDigits);
      }),
      { numRuns: 500 },
    );
  });

  it('reads a digit string of a length in range as itself, and refuses one out of range', () => {
    fc.assert(
      fc.property(sane, digits(1, 12), (r, d) => {
        const inRange = d.length >= r.minDigits && d.length <= r.maxDigits;
        expect(parseBibNumber(d, r)).toBe(inRange ? d : null);
      }),
    );
  });

  it('is idempotent: a parsed number parses to itself', () => {
    fc.assert(
      fc.property(text, sane, (t, r) => {
        const out = parseBibNumber(t, r);
        if (out !== null) expect(parseBibNumber(out, r)).toBe(out);
      }),
      { numRuns: 300 },
    );
  });

  it('ignores spaces inside the number, surrounding whitespace and a # or No. prefix', () => {
    const spaced = fc.array(fc.tuple(fc.constantFrom(...'0123456789'), fc.constantFrom('', ' ', '  ')), { minLength: 1, maxLength: 6 });
    const prefix = fc.constantFrom('', '#', '# ', 'No', 'No.', 'no. ', 'NR ', 'Nr.');
    fc.assert(
      fc.property(spaced, prefix, fc.constantFrom('', ' ', '\t'), (parts, p, pad) => {
        const number = parts.map(([d]) => d).join('');
        const written = pad + p + parts.map(([d, s]) => d + s).join('') + pad;
        expect(parseBibNumber(written, { minDigits: 1, maxDigits: 6 })).toBe(number);
      }),
    );
  });

  it('maps at most one look-alike letter, and only inside a longer all-digit reading', () => {
    const look = fc.constantFrom(['O', '0'], ['o', '0'], ['I', '1'], ['l', '1'], ['|', '1'], ['S', '5']);
    fc.assert(
      fc.property(digits(0, 5), look, digits(0, 5), look, (a, [l1, d1], b, [l2]) => {
        const r = { minDigits: 1, maxDigits: 12 };
        // One look-alike maps when there is at least one real digit beside it; alone it is a letter, not a number.
        expect(parseBibNumber(a + l1 + b, r)).toBe(a.length + b.length > 0 ? a + d1 + b : null);
        expect(parseBibNumber(a + l1 + b + l2, r)).toBeNull();
      }),
    );
  });

  it('refuses any reading with a letter that is not a look-alike', () => {
    fc.assert(
      fc.property(digits(0, 4), fc.constantFrom(...'ABCDEFGHJKMNPQRTUVWXYZabcdefghijkmnpqrstuvwxyz:/,;+'), digits(0, 4), (a, ch, b) => {
        expect(parseBibNumber(a + ch + b, { minDigits: 1, maxDigits: 10 })).toBeNull();
      }),
    );
  });
});

describe('bibsFromLines and dedupeBibs properties', () => {
  const box = fc
    .tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 80 }))
    .map(([x, y, w, h]) => ({ x1: x, y1: y, x2: x + w, y2: y + h }));
  const line = fc.record({ text: fc.oneof(text, digits(1, 4)), confidence: fc.double({ min: 0, max: 1, noNaN: true }), box });

  it('keeps exactly the confident lines that parse, in order, with their confidence and box', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), sane, fc.double({ min: 0, max: 1, noNaN: true }), (lines, r, minConfidence) => {
        const got = bibsFromLines(lines, { ...r, minConfidence });
        const expected = lines.flatMap((l) => {
          const number = l.confidence >= minConfidence ? parseBibNumber(l.text, r) : null;
          return number === null ? [] : [{ number, confidence: l.confidence, box: l.box }];
        });
        expect(got).toEqual(expected);
      }),
    );
  });

  it('dedupes to a best-first subset where no two readings of one number overlap above IoU 0.3', () => {
    const bib = fc.record({ number: fc.constantFrom('7', '42', '512'), confidence: fc.double({ min: 0, max: 1, noNaN: true }), box });
    fc.assert(
      fc.property(fc.array(bib, { maxLength: 15 }), (bibs: BibCandidate[]) => {
        const kept = dedupeBibs(bibs);
        for (const k of kept) expect(bibs).toContain(k);
        for (let i = 1; i < kept.length; i++) expect(kept[i]!.confidence).toBeLessThanOrEqual(kept[i - 1]!.confidence);
        for (let i = 0; i < kept.length; i++) {
          for (let j = i + 1; j < kept.length; j++) {
            if (kept[i]!.number === kept[j]!.number) expect(iou(kept[i]!.box, kept[j]!.box)).toBeLessThanOrEqual(0.3);
          }
        }
        // Every distinct number read survives: deduping never loses a bib, only repeats of it.
        expect(new Set(kept.map((k) => k.number))).toEqual(new Set(bibs.map((b) => b.number)));
        expect(dedupeBibs(kept)).toEqual(kept);
      }),
    );
  });
});
