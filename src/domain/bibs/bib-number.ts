/**
 * Race-bib numbers from OCR lines (seed 004, phase 4): a bib is a line that is nothing but a digit string of a
 * plausible length, read with enough confidence. Race names, sponsors, dates and times carry letters or
 * punctuation and are left out, so "BERLIN 2024" or "10:45" are never bibs.
 */
import { iou, type Box } from '../geometry.js';

/** Which OCR readings count as bib numbers. */
export interface BibRules {
  readonly minDigits: number;
  readonly maxDigits: number;
  /** Mean character confidence below which a reading is dropped. */
  readonly minConfidence: number;
}

/** What the OCR gives for one text line. */
export interface OcrLineLike {
  readonly text: string;
  readonly confidence: number;
  readonly box: Box;
}

/** One bib number and where it was read. */
export interface BibCandidate {
  readonly number: string;
  readonly confidence: number;
  readonly box: Box;
}

/** Letters OCR confuses with digits; mapped only inside an otherwise all-digit reading. */
const LOOKALIKES: Record<string, string> = { O: '0', o: '0', I: '1', l: '1', '|': '1', S: '5' };

/**
 * The bib number a line of text spells, or null. Spaces inside the number are dropped (wide bib fonts are often
 * read as "12 34"); a leading '#' or "No" is allowed; one look-alike letter is mapped to its digit when every other
 * character is a digit (so "1O5" is 105 but "ROAD" is nothing).
 */
export function parseBibNumber(text: string, rules: Pick<BibRules, 'minDigits' | 'maxDigits'>): string | null {
  let s = text.trim().replace(/^(#|no\.?|nr\.?)\s*/i, '').replace(/[\s.\-_'"`]+$/g, '').replace(/^[.\-_'"`]+/g, '');
  s = s.replace(/\s+/g, '');
  if (s.length < rules.minDigits || s.length > rules.maxDigits) return null;
  let mapped = 0;
  let out = '';
  for (const ch of s) {
    if (ch >= '0' && ch <= '9') out += ch;
    else if (LOOKALIKES[ch] !== undefined && s.length > 1) {
      out += LOOKALIKES[ch];
      mapped++;
    } else return null;
  }
  if (mapped > 1 || (mapped === 1 && out.length < 2)) return null;
  return out;
}

/** The bib numbers among OCR lines, gated on length and confidence. */
export function bibsFromLines(lines: readonly OcrLineLike[], rules: BibRules): BibCandidate[] {
  const out: BibCandidate[] = [];
  for (const line of lines) {
    if (line.confidence < rules.minConfidence) continue;
    const number = parseBibNumber(line.text, rules);
    if (number !== null) out.push({ number, confidence: line.confidence, box: line.box });
  }
  return out;
}

/**
 * The part of a person box where a bib is worn: the torso, below the head and above the knees. Cards held up in
 * front of the chest fall in it too.
 */
export function torsoRegion(person: Box): Box {
  const h = person.y2 - person.y1;
  return { x1: person.x1, y1: person.y1 + 0.12 * h, x2: person.x2, y2: person.y1 + 0.85 * h };
}

/**
 * One reading per bib: the same number read twice at the same place (overlapping person regions) is kept once,
 * at its best confidence. Best first.
 */
export function dedupeBibs<T extends BibCandidate>(bibs: readonly T[]): T[] {
  const sorted = [...bibs].sort((a, b) => b.confidence - a.confidence);
  const kept: T[] = [];
  for (const b of sorted) {
    if (!kept.some((k) => k.number === b.number && iou(k.box, b.box) > 0.3)) kept.push(b);
  }
  return kept;
}

/** True when the centre of `inner` lies inside `outer`. */
export function centreInside(inner: Box, outer: Box): boolean {
  const cx = (inner.x1 + inner.x2) / 2;
  const cy = (inner.y1 + inner.y2) / 2;
  return cx >= outer.x1 && cx <= outer.x2 && cy >= outer.y1 && cy <= outer.y2;
}
