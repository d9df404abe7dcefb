import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SharpImageDecoder } from '../src/adapters/media/sharp-image-decoder.js';
import type { DetectObjectsDeps } from '../src/app/detect-objects.js';
import { accuracyOptions, evaluateDetector, loadCocoSet, openDetectDeps, type CocoSet } from '../src/bench/accuracy.js';
import { testdata } from './helper.js';

/**
 * libjpeg's DCT-domain downscale (sharp's shrink-on-load, on by default) against decoding every pixel first. On
 * photos larger than the model input it changes some boxes by more than a pixel at the model's scale, in either
 * direction (on ambiguous edges the model is that sensitive to any resampling), so the measure is accuracy: COCO
 * mAP on coco128 enlarged 3.3x (each photo ~2100 px wide: the model input is a fifth of it and libjpeg decodes at
 * 1/4). Measured when this was written (yolox_nano, threshold 0.01): shrink-on-load 32.61, full decode 32.75.
 */
const FACTOR = 3.3;

describe('shrink-on-load keeps detection accuracy', () => {
  let dir: string;
  let set: CocoSet;
  let deps: DetectObjectsDeps;
  let close: () => Promise<void>;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'argus-shrink-'));
    const small = await loadCocoSet(testdata('coco128-train'));
    const images = await Promise.all(
      small.images.map(async (img) => {
        const original = await readFile(img.file);
        const meta = await sharp(original).rotate().metadata();
        const file = path.join(dir, path.basename(img.file));
        await writeFile(file, await sharp(original).rotate().resize(Math.round(meta.width * FACTOR), Math.round(meta.height * FACTOR), { kernel: 'lanczos3' }).jpeg({ quality: 92 }).toBuffer());
        return { ...img, file };
      }),
    );
    const scale = (v: number): number => v * FACTOR;
    const truth = small.truth.map((g) => ({ ...g, box: { x1: scale(g.box.x1), y1: scale(g.box.y1), x2: scale(g.box.x2), y2: scale(g.box.y2) } }));
    set = { ...small, images, truth };
    ({ deps, close } = await openDetectDeps());
  });
  afterAll(async () => {
    await close();
    await rm(dir, { recursive: true, force: true });
  });

  it('decodes enlarged photos differently (the DCT-domain downscale happens) with the same mAP within 0.5 points', async () => {
    const data = new Uint8Array(await readFile(set.images[0]!.file));
    const fast = new SharpImageDecoder(deps.limits.maxPixels);
    const reference = new SharpImageDecoder(deps.limits.maxPixels, { shrinkOnLoad: false });
    const [a, b] = await Promise.all([fast.resizeRgb(data, null, 416, 312), reference.resizeRgb(data, null, 416, 312)]);
    expect(Buffer.compare(a.data, b.data)).not.toBe(0);

    const withShrink = (await evaluateDetector({ ...deps, decoder: fast }, set, accuracyOptions('yolox_nano'))).result.map * 100;
    const fullDecode = (await evaluateDetector({ ...deps, decoder: reference }, set, accuracyOptions('yolox_nano'))).result.map * 100;
    console.log(`coco128 x${FACTOR}, yolox_nano mAP: shrink-on-load ${withShrink.toFixed(2)}, full decode ${fullDecode.toFixed(2)}`);
    expect(withShrink).toBeGreaterThanOrEqual(fullDecode - 0.5);
  });
});
