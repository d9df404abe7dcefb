/**
 * Properties of NMS, the tile merge and a pass's post-processing over arbitrary candidates (a model's output is
 * outside input: any scores, overlapping or degenerate boxes, broken numbers). Boxes are drawn in a small field so
 * that most of them overlap, scores from a few values so that ties are common.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { iou, intersectionOverMin, planLetterbox, type Box } from '../geometry.js';
import type { Candidate } from './detection.js';
import { mergeTileDetections, nms } from './nms.js';
import { passDetections } from './postprocess.js';

/** A coordinate: mostly whole or quarter pixels in a 0..120 field, sometimes any double in a wider range. */
const coord = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 480 }).map((q) => q / 4) },
  { weight: 1, arbitrary: fc.double({ min: -50, max: 200, noNaN: true }) },
);
/** A width or height of a quarter pixel to 60 pixels. */
const quarters = fc.integer({ min: 1, max: 240 }).map((q) => q / 4);
/** A box, usually proper, sometimes zero-sized or inverted (a decoder can emit those). */
const box: fc.Arbitrary<Box> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(coord, coord, quarters, quarters).map(([x, y, w, h]) => ({ x1: x, y1: y, x2: x + w, y2: y + h })) },
  { weight: 1, arbitrary: fc.record({ x1: coord, y1: coord, x2: coord, y2: coord }) },
);
const score = fc.oneof(fc.constantFrom(0.9, 0.5, 0.3), fc.double({ min: 0, max: 1, noNaN: true }));
const candidate: fc.Arbitrary<Candidate> = fc.record({ box, classId: fc.integer({ min: 0, max: 3 }), score });
const candidates = fc.array(candidate, { maxLength: 40 });
const spoil = (c: Candidate, bad: number, where: 'x1' | 'y1' | 'x2' | 'y2' | 'score'): Candidate =>
  where === 'score' ? { ...c, score: bad } : { ...c, box: { ...c.box, [where]: bad } };
/** Candidates with some broken numbers among them, as a faulty model might give. */
const broken = fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);
const withBroken = fc.array(
  fc.oneof(
    { weight: 5, arbitrary: candidate },
    { weight: 1, arbitrary: fc.tuple(candidate, broken, fc.constantFrom('x1', 'y1', 'x2', 'y2', 'score')).map(([c, bad, where]) => spoil(c, bad, where)) },
  ),
  { maxLength: 40 },
);
const threshold = fc.oneof(fc.constantFrom(0, 0.3, 0.45, 0.5, 1), fc.double({ min: 0, max: 1, noNaN: true }));

const finite = (c: Candidate): boolean => [c.score, c.box.x1, c.box.y1, c.box.x2, c.box.y2].every(Number.isFinite);

/** Checks that `out` is best-first, ties in input order, and a subset of `input` without repeats. */
function expectOrderedSubset(out: readonly Candidate[], input: readonly Candidate[]): void {
  const at = out.map((c) => input.indexOf(c));
  for (const i of at) expect(i).toBeGreaterThanOrEqual(0);
  expect(new Set(at).size).toBe(at.length);
  for (let k = 1; k < out.length; k++) {
    const prev = out[k - 1]!;
    const cur = out[k]!;
    expect(cur.score).toBeLessThanOrEqual(prev.score);
    if (cur.score === prev.score) expect(at[k]!).toBeGreaterThan(at[k - 1]!);
  }
}

describe('nms properties', () => {
  it('keeps a best-first subset of the finite candidates where no two of a class overlap above the threshold', () => {
    fc.assert(
      fc.property(withBroken, threshold, (cands, thr) => {
        const kept = nms(cands, thr);
        expectOrderedSubset(kept, cands);
        for (const k of kept) expect(finite(k)).toBe(true);
        for (let i = 0; i < kept.length; i++) {
          for (let j = i + 1; j < kept.length; j++) {
            if (kept[i]!.classId === kept[j]!.classId) expect(iou(kept[i]!.box, kept[j]!.box)).toBeLessThanOrEqual(thr);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('drops a finite candidate only for a kept one of its class that scores at least as high and overlaps above the threshold', () => {
    fc.assert(
      fc.property(candidates, threshold, (cands, thr) => {
        const kept = nms(cands, thr);
        for (const c of cands) {
          if (kept.includes(c)) continue;
          expect(kept.some((k) => k.classId === c.classId && k.score >= c.score && iou(k.box, c.box) > thr)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(withBroken, threshold, (cands, thr) => {
        const once = nms(cands, thr);
        expect(nms(once, thr)).toEqual(once);
      }),
      { numRuns: 300 },
    );
  });

  it('is class-aware: each class comes out as if it had been alone', () => {
    fc.assert(
      fc.property(candidates, threshold, (cands, thr) => {
        const kept = nms(cands, thr);
        for (const cls of new Set(cands.map((c) => c.classId))) {
          expect(kept.filter((k) => k.classId === cls)).toEqual(nms(cands.filter((c) => c.classId === cls), thr));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('without classes, suppresses as if every candidate were of one class', () => {
    fc.assert(
      fc.property(candidates, threshold, (cands, thr) => {
        const oneClass = cands.map((c) => ({ ...c, classId: 0 }));
        const agnostic = nms(cands, thr, { classAware: false }).map((c) => cands.indexOf(c));
        expect(agnostic).toEqual(nms(oneClass, thr).map((c) => oneClass.indexOf(c)));
      }),
      { numRuns: 200 },
    );
  });

  it('with maxDetections, returns the first maxDetections of the uncapped result', () => {
    fc.assert(
      fc.property(candidates, threshold, fc.integer({ min: -1, max: 12 }), fc.boolean(), (cands, thr, max, classAware) => {
        const all = nms(cands, thr, { classAware });
        expect(nms(cands, thr, { classAware, maxDetections: max })).toEqual(all.slice(0, Math.max(0, max)));
      }),
      { numRuns: 300 },
    );
  });

  it('does not change its input', () => {
    fc.assert(
      fc.property(withBroken, threshold, (cands, thr) => {
        const copy = structuredClone(cands);
        nms(cands, thr);
        expect(cands).toEqual(copy);
      }),
    );
  });
});

describe('mergeTileDetections properties', () => {
  const opts = fc.record({ iouThreshold: threshold, minOverlapThreshold: threshold });

  it('without union: a best-first subset where no kept pair of a class matches by IoU or by overlap over the smaller', () => {
    fc.assert(
      fc.property(withBroken, opts, (cands, o) => {
        const kept = mergeTileDetections(cands, { ...o, union: false });
        expectOrderedSubset(kept, cands);
        for (let i = 0; i < kept.length; i++) {
          for (let j = i + 1; j < kept.length; j++) {
            if (kept[i]!.classId !== kept[j]!.classId) continue;
            expect(iou(kept[i]!.box, kept[j]!.box)).toBeLessThanOrEqual(o.iouThreshold);
            expect(intersectionOverMin(kept[i]!.box, kept[j]!.box)).toBeLessThanOrEqual(o.minOverlapThreshold);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('with union: every kept box holds its own candidate, keeps its class and score, and never outnumbers the input', () => {
    fc.assert(
      fc.property(withBroken, opts, (cands, o) => {
        const kept = mergeTileDetections(cands, o);
        const plain = mergeTileDetections(cands, { ...o, union: false });
        // The union only grows boxes; which candidates survive is the same as without it.
        expect(kept).toHaveLength(plain.length);
        kept.forEach((k, i) => {
          const own = plain[i]!;
          expect([k.classId, k.score]).toEqual([own.classId, own.score]);
          expect(k.box.x1).toBeLessThanOrEqual(own.box.x1);
          expect(k.box.y1).toBeLessThanOrEqual(own.box.y1);
          expect(k.box.x2).toBeGreaterThanOrEqual(own.box.x2);
          expect(k.box.y2).toBeGreaterThanOrEqual(own.box.y2);
          // Grown only to corners that some candidate of its class had.
          const same = cands.filter((c) => c.classId === k.classId && finite(c));
          expect(same.some((c) => c.box.x1 === k.box.x1)).toBe(true);
          expect(same.some((c) => c.box.x2 === k.box.x2)).toBe(true);
        });
      }),
      { numRuns: 300 },
    );
  });
});

describe('passDetections properties', () => {
  it('returns boxes inside the image, at least a pixel in size, best first, not overlapping within a class', () => {
    const size = fc.integer({ min: 1, max: 150 });
    const align = fc.constantFrom<'top-left' | 'centre' | 'stretch'>('top-left', 'centre', 'stretch');
    fc.assert(
      fc.property(withBroken, size, size, align, threshold, (cands, w, h, how, thr) => {
        const pass = { lb: planLetterbox(w, h, 120, 120, how), region: null };
        const out = passDetections(cands, pass, w, h, { iouThreshold: thr });
        for (let i = 0; i < out.length; i++) {
          const b = out[i]!.box;
          expect(b.x1).toBeGreaterThanOrEqual(0);
          expect(b.y1).toBeGreaterThanOrEqual(0);
          expect(b.x2).toBeLessThanOrEqual(w);
          expect(b.y2).toBeLessThanOrEqual(h);
          expect(b.x2 - b.x1).toBeGreaterThanOrEqual(1);
          expect(b.y2 - b.y1).toBeGreaterThanOrEqual(1);
          if (i > 0) expect(out[i]!.score).toBeLessThanOrEqual(out[i - 1]!.score);
          for (let j = 0; j < i; j++) if (out[j]!.classId === out[i]!.classId) expect(iou(out[j]!.box, b)).toBeLessThanOrEqual(thr);
        }
      }),
      { numRuns: 300 },
    );
  });
});
