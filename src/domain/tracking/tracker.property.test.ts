/**
 * Properties of the video tracker over arbitrary detection sequences: objects that drift, jump, vanish and reappear,
 * empty frames, zero-sized and inverted boxes, repeated timestamps and uneven sampling. Whatever the detector gives,
 * track ids are positive, issued 1, 2, 3… in order, unique within a frame, tied to one class, and the reported
 * tracks agree with the ids handed out frame by frame.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Detection } from '../detection/detection.js';
import { boundedPath, Tracker, type FrameInput, type TrackerOptions } from './tracker.js';

const LABELS = ['person', 'car', 'dog'];

const int = (min: number, max: number): fc.Arbitrary<number> => fc.integer({ min, max });
const real = (min: number, max: number): fc.Arbitrary<number> => fc.double({ min, max, noNaN: true });

/** A box on a 200x200 field: usually proper, sometimes zero-sized or inverted. */
const box = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.tuple(int(-20, 200), int(-20, 200), int(1, 80), int(1, 80)).map(([x, y, w, h]) => ({ x1: x, y1: y, x2: x + w, y2: y + h })),
  },
  { weight: 1, arbitrary: fc.tuple(int(0, 200), int(0, 200)).map(([x, y]) => ({ x1: x, y1: y, x2: x, y2: y })) },
  { weight: 1, arbitrary: fc.record({ x1: real(-50, 250), y1: real(-50, 250), x2: real(-50, 250), y2: real(-50, 250) }) },
);

const detection: fc.Arbitrary<Detection> = fc
  .record({ classId: int(0, 2), confidence: real(0, 1), box })
  .map((d) => ({ ...d, label: LABELS[d.classId]! }));

/** Objects are usually seen, and usually with a confidence high enough to start a track. */
const seen = fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });
const confidence = fc.oneof({ weight: 3, arbitrary: real(0.6, 1) }, { weight: 1, arbitrary: real(0, 1) });

/**
 * A few objects moving at constant velocity, so that tracks actually form, plus random extra detections. Each frame
 * sees each object with some probability and some confidence.
 */
const object = fc.record({ classId: int(0, 2), x: int(0, 150), y: int(0, 150), vx: int(-8, 8), vy: int(-8, 8), size: int(8, 60) });
const four = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T[]> => fc.array(a, { minLength: 4, maxLength: 4 });
const frameSeen = fc.tuple(four(seen), four(confidence), fc.array(detection, { maxLength: 2 }));
const movingObjects = fc
  .tuple(fc.array(object, { minLength: 1, maxLength: 4 }), fc.array(frameSeen, { minLength: 2, maxLength: 25 }))
  .map(([objects, frames]) =>
    frames.map(([visible, conf, extra], t) => [
      ...objects.flatMap((o, k): Detection[] => {
        if (!visible[k]) return [];
        const x = o.x + o.vx * t;
        const y = o.y + o.vy * t;
        return [{ classId: o.classId, label: LABELS[o.classId]!, confidence: conf[k]!, box: { x1: x, y1: y, x2: x + o.size, y2: y + o.size } }];
      }),
      ...extra,
    ]),
  );

/** Detection lists per frame: either random or moving objects; empty frames appear in both. */
const frameDetections = fc.oneof(
  { weight: 1, arbitrary: fc.array(fc.array(detection, { maxLength: 6 }), { maxLength: 25 }) },
  { weight: 3, arbitrary: movingObjects },
);

/** Strictly increasing frame indices with non-decreasing timestamps (repeats and gaps included). */
function framesOf(dets: Detection[][], steps: { di: number; dt: number }[]): FrameInput[] {
  let frameIndex = 0;
  let timestamp = 0;
  return dets.map((detections, i) => {
    const s = steps[i % steps.length]!;
    frameIndex += s.di;
    timestamp += s.dt;
    return { frameIndex, timestamp, detections };
  });
}
const dt = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(0, 0.04, 0.2, 0.5) }, { weight: 1, arbitrary: real(0, 3) });
const steps = fc.array(fc.record({ di: int(1, 8), dt }), { minLength: 1, maxLength: 5 });

const options: fc.Arbitrary<TrackerOptions> = fc.record({
  // Mostly thresholds that let moving objects link, so that tracks form and get checked; any value now and then.
  iouThreshold: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(0.1, 0.3, 0.5) }, { weight: 1, arbitrary: real(0.01, 1) }),
  // Mostly ages that outlast a frame gap; at 0 every track ends at the next frame that moves the clock.
  maxAgeSeconds: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(0.5, 1, 2) }, { weight: 1, arbitrary: real(0, 5) }),
  minHits: int(1, 4),
  highThreshold: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(0, 0.3, 0.5, 0.6) }, { weight: 1, arbitrary: real(0, 1) }),
});

describe('Tracker properties', () => {
  it('hands out positive ids 1, 2, 3… in order, unique per frame, each tied to one class, and reports them consistently', () => {
    fc.assert(
      fc.property(options, frameDetections, steps, (opts, dets, st) => {
        const tracker = new Tracker(opts);
        const frames = framesOf(dets, st);
        let highest = 0;
        const classOf = new Map<number, number>();
        const tagged = new Map<number, { frameIndex: number; confidence: number }[]>();
        for (const frame of frames) {
          const { detections, updated } = tracker.update(frame);
          expect(detections).toHaveLength(frame.detections.length);
          const ids: number[] = [];
          detections.forEach((d, i) => {
            // The input detection comes back unchanged, with its track id added.
            expect({ ...d, trackId: undefined }).toEqual({ ...frame.detections[i], trackId: undefined });
            if (d.trackId === null) return;
            expect(Number.isInteger(d.trackId)).toBe(true);
            expect(d.trackId).toBeGreaterThan(0);
            ids.push(d.trackId);
            expect(classOf.get(d.trackId) ?? d.classId).toBe(d.classId);
            classOf.set(d.trackId, d.classId);
            tagged.set(d.trackId, [...(tagged.get(d.trackId) ?? []), { frameIndex: frame.frameIndex, confidence: d.confidence }]);
          });
          expect(new Set(ids).size).toBe(ids.length);
          // New ids come in sequence without gaps (within a frame in the order tracks began, not detection order).
          const fresh = ids.filter((id) => id > highest).sort((a, b) => a - b);
          expect(fresh).toEqual(fresh.map((_, k) => highest + 1 + k));
          highest += fresh.length;
          // `updated` names exactly the tracks this frame's detections carry, by id.
          expect(updated.map((u) => u.trackId)).toEqual([...ids].sort((a, b) => a - b));
        }

        const tracks = tracker.tracks();
        expect(tracks.map((t) => t.trackId).sort((a, b) => a - b)).toEqual(Array.from({ length: highest }, (_, k) => k + 1));
        for (const t of tracks) {
          expect(t.classId).toBe(classOf.get(t.trackId));
          expect(t.hits).toBe(t.path.length);
          expect(t.hits).toBeGreaterThanOrEqual(opts.minHits);
          for (let k = 1; k < t.path.length; k++) {
            expect(t.path[k]!.frameIndex).toBeGreaterThan(t.path[k - 1]!.frameIndex);
            expect(t.path[k]!.timestamp).toBeGreaterThanOrEqual(t.path[k - 1]!.timestamp);
          }
          // The path is the frames the id was handed out on, preceded by the minHits - 1 hits that confirmed it.
          const own = tagged.get(t.trackId)!;
          expect(t.path.slice(opts.minHits - 1).map((p) => p.frameIndex)).toEqual(own.map((p) => p.frameIndex));
          expect([t.firstFrame, t.lastFrame]).toEqual([t.path[0]!.frameIndex, t.path.at(-1)!.frameIndex]);
          const confidences = t.path.map((p) => p.confidence);
          expect(t.meanConfidence).toBeGreaterThanOrEqual(Math.min(...confidences) - 1e-12);
          expect(t.meanConfidence).toBeLessThanOrEqual(Math.max(...confidences) + 1e-12);
          expect(t.best.confidence).toBe(Math.max(...confidences));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps one id for one object that moves a little each frame, whatever the noise around it', () => {
    const walk = fc.array(fc.tuple(fc.integer({ min: -4, max: 4 }), fc.integer({ min: -4, max: 4 })), { minLength: 1, maxLength: 30 });
    // Far-away detections of other classes and sizes, which must neither steal the object's id nor split its track.
    const far = detection.map((d) => ({ ...d, box: { ...d.box, x1: d.box.x1 + 1000, x2: d.box.x2 + 1000 } }));
    const clutter = fc.array(fc.array(far, { maxLength: 3 }), { maxLength: 30 });
    fc.assert(
      fc.property(walk, clutter, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 40, max: 80 }), (moves, noise, minHits, size) => {
        const tracker = new Tracker({ iouThreshold: 0.3, maxAgeSeconds: 1, minHits, highThreshold: 0.5 });
        let x = 100;
        let y = 100;
        const ids = new Set<number | null>();
        moves.forEach(([dx, dy], t) => {
          x += dx;
          y += dy;
          const object: Detection = { label: 'person', classId: 0, confidence: 0.9, box: { x1: x, y1: y, x2: x + size, y2: y + size } };
          const { detections } = tracker.update({ frameIndex: t, timestamp: t * 0.2, detections: [...(noise[t] ?? []), object] });
          if (t >= minHits - 1) ids.add(detections.at(-1)!.trackId);
        });
        if (moves.length >= minHits) {
          expect(ids.size).toBe(1);
          expect(ids.has(null)).toBe(false);
        }
        const objectTracks = tracker.tracks().filter((tr) => tr.classId === 0 && tr.path.some((p) => p.box.x1 < 500));
        expect(objectTracks).toHaveLength(moves.length >= minHits ? 1 : 0);
      }),
      { numRuns: 200 },
    );
  });

  it('starts tracks only from high-confidence detections', () => {
    fc.assert(
      fc.property(options, frameDetections, steps, (opts, dets, st) => {
        const tracker = new Tracker(opts);
        for (const frame of framesOf(dets, st)) tracker.update(frame);
        // A track's first point started it, and only a high detection may start one.
        for (const t of tracker.tracks()) expect(t.path[0]!.confidence).toBeGreaterThanOrEqual(opts.highThreshold);
      }),
      { numRuns: 200 },
    );
  });

  it('gives the same answers when fed the same frames again (deterministic)', () => {
    fc.assert(
      fc.property(options, frameDetections, steps, (opts, dets, st) => {
        const frames = framesOf(dets, st);
        const run = (): unknown => {
          const tracker = new Tracker(opts);
          return [frames.map((f) => tracker.update(f).detections.map((d) => d.trackId)), tracker.tracks()];
        };
        expect(run()).toEqual(run());
      }),
      { numRuns: 100 },
    );
  });

  it('with minHits 1 and no low-confidence detections, tags every detection', () => {
    fc.assert(
      fc.property(options, frameDetections, steps, (opts, dets, st) => {
        const tracker = new Tracker({ ...opts, minHits: 1, highThreshold: 0 });
        for (const frame of framesOf(dets, st)) {
          for (const d of tracker.update(frame).detections) expect(d.trackId).not.toBeNull();
        }
      }),
      { numRuns: 200 },
    );
  });

  it('refuses frames out of order and leaves its state as it was', () => {
    fc.assert(
      fc.property(options, fc.array(detection, { maxLength: 4 }), fc.integer({ min: 1, max: 10 }), (opts, dets, index) => {
        const tracker = new Tracker(opts);
        tracker.update({ frameIndex: index, timestamp: 1, detections: dets });
        expect(() => tracker.update({ frameIndex: index, timestamp: 2, detections: dets })).toThrow(RangeError);
        expect(() => tracker.update({ frameIndex: index + 1, timestamp: 0.5, detections: dets })).toThrow(RangeError);
        expect(() => tracker.update({ frameIndex: index + 1, timestamp: Number.NaN, detections: dets })).toThrow(RangeError);
        expect(() => tracker.update({ frameIndex: index + 1, timestamp: 1, detections: dets })).not.toThrow();
      }),
      { numRuns: 100 },
    );
  });

  it('with a bounded path, gives the same ids and tracks, and paths that are at most maxPathPoints of the whole one', () => {
    fc.assert(
      fc.property(options, frameDetections, steps, int(3, 8), (opts, dets, st, maxPathPoints) => {
        const frames = framesOf(dets, st);
        const whole = new Tracker(opts);
        const bounded = new Tracker({ ...opts, maxPathPoints });
        for (const frame of frames) {
          const a = whole.update(frame);
          const b = bounded.update(frame);
          expect(b).toEqual(a);
        }
        const full = whole.tracks();
        const thin = bounded.tracks();
        expect(thin.map(({ path: _, ...t }) => t)).toEqual(full.map(({ path: _, ...t }) => t));
        thin.forEach((t, k) => {
          const all = full[k]!.path;
          expect(t.path.length).toBeLessThanOrEqual(maxPathPoints);
          if (all.length <= maxPathPoints) expect(t.path).toEqual(all);
          // Until the sampler thins, the same points as thinning the whole path.
          if (all.length <= 2 * maxPathPoints - 2) expect(t.path).toEqual(boundedPath(all, t.best, maxPathPoints));
          // A subsequence of the whole path that starts with its first point and holds its last and best.
          let at = 0;
          for (const p of t.path) {
            while (at < all.length && all[at]!.frameIndex !== p.frameIndex) at++;
            expect(all[at]).toEqual(p);
          }
          expect(t.path[0]).toEqual(all[0]);
          expect(t.path.at(-1)).toEqual(all.at(-1));
          expect(t.path.map((p) => p.frameIndex)).toContain(t.best.frameIndex);
        });
      }),
      { numRuns: 300 },
    );
  });
});
