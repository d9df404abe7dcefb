/**
 * Properties of the box maths and the letterbox over arbitrary sizes and boxes: IoU is symmetric, within 0..1 and 1
 * for a box with itself; clipping keeps boxes inside the image; a box mapped into the model input and back lands
 * where it was; the letterboxed image fits the input and fills it on its tighter axis.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  boxArea,
  boxFromCentre,
  clipBox,
  intersectionOverMin,
  iou,
  offsetBox,
  planLetterbox,
  roundBox,
  unletterbox,
  type Box,
  type Letterbox,
} from './geometry.js';

/**
 * Pixel coordinates: whole, quarter or any double within a range well beyond a large image (but not so far that areas
 * overflow), and tiny ones, whose areas underflow to 0.
 */
const coord = fc.oneof(
  fc.integer({ min: -100, max: 5000 }),
  fc.integer({ min: -400, max: 20_000 }).map((q) => q / 4),
  fc.double({ min: -1e5, max: 1e5, noNaN: true }),
  fc.constantFrom(0, 1e-200, Number.MIN_VALUE, -Number.MIN_VALUE),
);
const box: fc.Arbitrary<Box> = fc.record({ x1: coord, y1: coord, x2: coord, y2: coord });
/** A box with positive width and height. */
const properBox: fc.Arbitrary<Box> = fc
  .tuple(coord, coord, fc.double({ min: 0.01, max: 5000, noNaN: true }), fc.double({ min: 0.01, max: 5000, noNaN: true }))
  .map(([x, y, w, h]) => ({ x1: x, y1: y, x2: x + w, y2: y + h }))
  .filter((b) => b.x2 > b.x1 && b.y2 > b.y1);
const px = fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 20_000 }));
const align = fc.constantFrom<'top-left' | 'centre' | 'stretch'>('top-left', 'centre', 'stretch');

/** Model input to image pixels and back are inverse maps; this is the forward one, as the resize draws the image. */
const forward = (b: Box, lb: Letterbox & { scaleY: number }): Box => ({
  x1: b.x1 * lb.scale + lb.padX,
  y1: b.y1 * lb.scaleY + lb.padY,
  x2: b.x2 * lb.scale + lb.padX,
  y2: b.y2 * lb.scaleY + lb.padY,
});

describe('IoU properties', () => {
  it('is symmetric and within 0..1', () => {
    fc.assert(
      fc.property(box, box, (a, b) => {
        const v = iou(a, b);
        expect(v).toBe(iou(b, a));
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
        const m = intersectionOverMin(a, b);
        expect(m).toBe(intersectionOverMin(b, a));
        expect(m).toBeGreaterThanOrEqual(0);
        expect(m).toBeLessThanOrEqual(1);
        // Over the smaller box is never less than over the union.
        expect(m).toBeGreaterThanOrEqual(v);
      }),
      { numRuns: 500 },
    );
  });

  it('is 1 for a proper box with itself and 0 with a box that does not touch it', () => {
    fc.assert(
      fc.property(properBox, fc.double({ min: 0, max: 1000, noNaN: true }), (a, gap) => {
        expect(iou(a, { ...a })).toBe(1);
        expect(intersectionOverMin(a, { ...a })).toBe(1);
        const right = offsetBox(a, a.x2 - a.x1 + gap, 0);
        fc.pre(right.x1 >= a.x2);
        expect(iou(a, right)).toBe(0);
      }),
    );
  });

  it('does not change when both boxes move together (up to rounding)', () => {
    fc.assert(
      fc.property(properBox, properBox, fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: -1000, max: 1000 }), (a, b, dx, dy) => {
        expect(iou(offsetBox(a, dx, dy), offsetBox(b, dx, dy))).toBeCloseTo(iou(a, b), 6);
      }),
    );
  });
});

describe('IoU: cases the properties found', () => {
  it('is 0, not NaN, for boxes whose areas underflow to 0', () => {
    const tiny = { x1: 0, y1: 0, x2: 1e-200, y2: 1e-200 };
    expect(iou(tiny, tiny)).toBe(0);
    expect(iou({ x1: 0, y1: 0, x2: Number.MIN_VALUE, y2: 1 }, { x1: 0, y1: 0, x2: 1, y2: Number.MIN_VALUE })).toBe(0);
  });
});

describe('clipBox properties', () => {
  it('keeps every corner inside the image, changes nothing inside it, and is idempotent', () => {
    fc.assert(
      fc.property(box, px, px, (b, w, h) => {
        const c = clipBox(b, w, h);
        for (const x of [c.x1, c.x2]) expect(x >= 0 && x <= w).toBe(true);
        for (const y of [c.y1, c.y2]) expect(y >= 0 && y <= h).toBe(true);
        expect(clipBox(c, w, h)).toEqual(c);
        expect(boxArea(c)).toBeLessThanOrEqual(boxArea(b));
        const inside = [b.x1, b.x2].every((x) => x >= 0 && x <= w) && [b.y1, b.y2].every((y) => y >= 0 && y <= h);
        // Compared with ===: clipping may turn -0 into 0, which is the same coordinate.
        if (inside) expect(c.x1 === b.x1 && c.y1 === b.y1 && c.x2 === b.x2 && c.y2 === b.y2).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('letterbox properties', () => {
  it('fits the scaled image in the input, filling the tighter axis, with the padding where the alignment says', () => {
    fc.assert(
      fc.property(px, px, px, px, align, (sw, sh, dw, dh, how) => {
        const lb = planLetterbox(sw, sh, dw, dh, how);
        expect(lb.width).toBeGreaterThanOrEqual(1);
        expect(lb.height).toBeGreaterThanOrEqual(1);
        expect(lb.padX + lb.width).toBeLessThanOrEqual(dw);
        expect(lb.padY + lb.height).toBeLessThanOrEqual(dh);
        expect(Math.min(lb.padX, lb.padY)).toBeGreaterThanOrEqual(0);
        if (how === 'stretch') {
          expect([lb.width, lb.height, lb.padX, lb.padY]).toEqual([dw, dh, 0, 0]);
          return;
        }
        // The aspect ratio is kept: one scale, and one axis is filled.
        expect(lb.scaleY).toBe(lb.scale);
        expect(lb.width === dw || lb.height === dh).toBe(true);
        // Each side is the source side scaled, rounded to a whole pixel (never below one).
        expect(Math.abs(lb.width - Math.max(1, sw * lb.scale))).toBeLessThanOrEqual(0.5 + 1e-9);
        expect(Math.abs(lb.height - Math.max(1, sh * lb.scale))).toBeLessThanOrEqual(0.5 + 1e-9);
        if (how === 'top-left') expect([lb.padX, lb.padY]).toEqual([0, 0]);
        else {
          // Centred: the two margins differ by at most a pixel.
          expect(Math.abs(dw - lb.width - 2 * lb.padX)).toBeLessThanOrEqual(1);
          expect(Math.abs(dh - lb.height - 2 * lb.padY)).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('maps a box into the input and back to where it was', () => {
    fc.assert(
      fc.property(px, px, px, px, align, box, (sw, sh, dw, dh, how, b) => {
        const lb = planLetterbox(sw, sh, dw, dh, how);
        const back = unletterbox(forward(b, lb), lb);
        // Exact up to floating-point rounding: a millionth of a pixel relative to the coordinates involved.
        const tol = (v: number): number => 1e-9 * Math.max(1, Math.abs(v), sw, sh);
        expect(Math.abs(back.x1 - b.x1)).toBeLessThanOrEqual(tol(b.x1));
        expect(Math.abs(back.y1 - b.y1)).toBeLessThanOrEqual(tol(b.y1));
        expect(Math.abs(back.x2 - b.x2)).toBeLessThanOrEqual(tol(b.x2));
        expect(Math.abs(back.y2 - b.y2)).toBeLessThanOrEqual(tol(b.y2));
      }),
      { numRuns: 300 },
    );
  });

  it('maps the letterboxed image region back onto the whole source image, within a model-input pixel', () => {
    fc.assert(
      fc.property(px, px, px, px, align, (sw, sh, dw, dh, how) => {
        const lb = planLetterbox(sw, sh, dw, dh, how);
        const region = unletterbox({ x1: lb.padX, y1: lb.padY, x2: lb.padX + lb.width, y2: lb.padY + lb.height }, lb);
        expect([region.x1, region.y1]).toEqual([0, 0]);
        // The region was rounded to whole input pixels: half an input pixel, i.e. 0.5 / scale source pixels, unless
        // the image was so thin that its side was raised to one input pixel.
        const slackX = (sw * lb.scale < 1 ? 1 : 0.5) / lb.scale + 1e-9 * sw;
        const slackY = (sh * lb.scaleY < 1 ? 1 : 0.5) / lb.scaleY + 1e-9 * sh;
        expect(Math.abs(region.x2 - sw)).toBeLessThanOrEqual(slackX);
        expect(Math.abs(region.y2 - sh)).toBeLessThanOrEqual(slackY);
      }),
      { numRuns: 300 },
    );
  });
});

describe('small helpers', () => {
  it('boxFromCentre has the given centre and size, and roundBox moves a corner by at most half a step', () => {
    const size = fc.double({ min: 0, max: 5000, noNaN: true });
    fc.assert(
      fc.property(coord, coord, size, size, fc.integer({ min: 0, max: 3 }), (cx, cy, w, h, digits) => {
        const b = boxFromCentre(cx, cy, w, h);
        expect((b.x1 + b.x2) / 2).toBeCloseTo(cx, 6);
        expect(b.x2 - b.x1).toBeCloseTo(w, 6);
        expect(b.y2 - b.y1).toBeCloseTo(h, 6);
        const r = roundBox(b, digits);
        for (const k of ['x1', 'y1', 'x2', 'y2'] as const) {
          expect(Math.abs(r[k] - b[k])).toBeLessThanOrEqual(0.5 * 10 ** -digits + 1e-9 * Math.max(1, Math.abs(b[k])));
        }
      }),
    );
  });
});
