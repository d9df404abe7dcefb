/**
 * Properties of upload file-name sanitising over arbitrary names: whatever a client puts in a multipart
 * `filename`, the stored display name has no path, no control or invisible format characters, no leading dot, at
 * most 255 code points, is never empty, and sanitising it again changes nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kindOfExtension, sanitizeFilename } from './media-kind.js';

/**
 * Names built from any code point plus, much more often than chance, the characters the sanitiser treats specially:
 * separators, dots, spaces, controls, bidi overrides, zero-width characters and combining marks (which NFC may fold
 * into the letter before them once a control character between them is removed).
 */
const tricky = fc.constantFrom(
  ...['/', '\\', '.', ' ', '\t', '\u0000', '\u001f', '\u007f', '\u202e', '\u200b', '\ufeff', '\u2028', '\u3000'],
  ...['\u0301', 'e', 'a', ':', '*', '😀', '\ud83d', '\ude00'],
);
const unit = fc.oneof(
  { weight: 3, arbitrary: tricky },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
);
/** What may precede a name's first visible character: spaces, dots, controls and bidi overrides in any mix. */
const lead = fc.string({ unit: fc.constantFrom(' ', '.', '\t', '\u0000', '\u202e', '\u3000'), maxLength: 4 });
const name = fc
  .tuple(lead, fc.oneof(fc.string({ unit, maxLength: 40 }), fc.string({ unit, minLength: 250, maxLength: 300 })))
  .map(([l, n]) => l + n);

describe('sanitizeFilename properties', () => {
  it('returns a name without separators, controls, format characters or a leading dot, 1..255 code points', () => {
    fc.assert(
      fc.property(fc.option(name, { nil: undefined }), (raw) => {
        const out = sanitizeFilename(raw);
        expect(out).not.toMatch(/[/\\]/);
        expect(out).not.toMatch(/[\p{Cc}\p{Cf}]/u);
        expect(out.startsWith('.')).toBe(false);
        const codePoints = Array.from(out).length;
        expect(codePoints).toBeGreaterThanOrEqual(1);
        expect(codePoints).toBeLessThanOrEqual(255);
        // No surrounding whitespace: a name that displays the same as another must not differ invisibly.
        expect(out).toBe(out.trim());
      }),
      { numRuns: 500 },
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(name, (raw) => {
        const once = sanitizeFilename(raw);
        expect(sanitizeFilename(once)).toBe(once);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps only the last path component, and a plain safe name whole', () => {
    const safe = fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9 _.-]{0,30}[A-Za-z0-9_-]$/);
    fc.assert(
      fc.property(fc.array(safe, { maxLength: 4 }), fc.constantFrom('/', '\\'), safe, (dirs, sep, file) => {
        expect(sanitizeFilename([...dirs, file].join(sep))).toBe(file);
      }),
    );
  });

  it('never changes what the extension of a safe name claims', () => {
    const ext = fc.constantFrom('jpg', 'PNG', 'mp4', 'avi', 'txt', 'exe', '');
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9]{1,20}$/), ext, (stem, e) => {
        const raw = e ? `${stem}.${e}` : stem;
        expect(kindOfExtension(sanitizeFilename(raw))).toBe(kindOfExtension(raw));
      }),
    );
  });
});

describe('sanitizeFilename: cases the properties found', () => {
  it('strips dots that only become leading once spaces before them are trimmed', () => {
    expect(sanitizeFilename(' .htaccess')).toBe('htaccess');
    expect(sanitizeFilename('. .x')).toBe('x');
    expect(sanitizeFilename('dir/ ..\u202e.y')).toBe('y');
  });

  it('leaves no trailing space where the 255-code-point cut lands after one', () => {
    const out = sanitizeFilename(`${'a'.repeat(254)} b`);
    expect(out).toBe('a'.repeat(254));
    expect(sanitizeFilename(out)).toBe(out);
  });

  it('normalises again after removing a control character between a letter and its combining mark', () => {
    // NFC cannot join e + U+0301 across the NUL; once the NUL is gone they must be joined, or a second pass differs.
    expect(sanitizeFilename('e\u0000\u0301')).toBe('\u00e9');
  });
});
