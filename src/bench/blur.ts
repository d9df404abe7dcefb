/**
 * `npm run bench -- blur`: the Laplacian-variance blur metric on a 1080p photo, Argus against OpenCV's
 * `cv2.Laplacian(gray, cv2.CV_64F).var()` in Python on the same machine and image, in the same run (the
 * baseline needs Debian's python3-opencv; without it only Argus's figures are printed).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { SharpImageDecoder } from '../adapters/media/sharp-image-decoder.js';
import { laplacianVariance } from '../domain/blur.js';

const PY = `
import sys, time, cv2, numpy as np
gray = np.fromfile(sys.argv[1], dtype=np.uint8).reshape(int(sys.argv[3]), int(sys.argv[2]))
jpeg = np.fromfile(sys.argv[4], dtype=np.uint8)
n = int(sys.argv[5])
for _ in range(5): cv2.Laplacian(gray, cv2.CV_64F).var()
t = time.perf_counter()
for _ in range(n): v = cv2.Laplacian(gray, cv2.CV_64F).var()
metric = (time.perf_counter() - t) / n
t = time.perf_counter()
for _ in range(n // 4 or 1):
    img = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
    cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var()
full = (time.perf_counter() - t) / (n // 4 or 1)
print(metric * 1000, full * 1000, v)
`;

/** Runs the benchmark on `source` resized to 1920x1080 and prints ms per image and the ratio to OpenCV. */
export async function benchBlur(source: string, iterations = 100): Promise<void> {
  const jpeg = await sharp(source).resize(1920, 1080, { fit: 'fill' }).jpeg({ quality: 92 }).toBuffer();
  const decoder = new SharpImageDecoder(1e9);
  const grey = await decoder.decodeGrey(jpeg);
  for (let i = 0; i < 5; i++) laplacianVariance(grey);
  let t = performance.now();
  let v = 0;
  for (let i = 0; i < iterations; i++) v = laplacianVariance(grey);
  const metricMs = (performance.now() - t) / iterations;
  const fullN = Math.max(1, Math.floor(iterations / 4));
  t = performance.now();
  for (let i = 0; i < fullN; i++) laplacianVariance(await decoder.decodeGrey(jpeg));
  const fullMs = (performance.now() - t) / fullN;

  console.log(`blur on 1920x1080 (${path.basename(source)}), ${iterations} runs`);
  console.log(`  argus   Laplacian variance: ${metricMs.toFixed(2)} ms  (decode + grey + metric: ${fullMs.toFixed(2)} ms)  var=${v.toFixed(1)}`);

  const dir = await mkdtemp(path.join(os.tmpdir(), 'argus-blur-'));
  try {
    await writeFile(path.join(dir, 'grey.raw'), grey.data);
    await writeFile(path.join(dir, 'img.jpg'), jpeg);
    const out = execFileSync('/usr/bin/python3', ['-c', PY, path.join(dir, 'grey.raw'), String(grey.width), String(grey.height), path.join(dir, 'img.jpg'), String(iterations)], { encoding: 'utf8' });
    const [cvMetric, cvFull, cvVar] = out.trim().split(/\s+/).map(Number) as [number, number, number];
    console.log(`  opencv  Laplacian().var():  ${cvMetric.toFixed(2)} ms  (imdecode + cvtColor + metric: ${cvFull.toFixed(2)} ms)  var=${cvVar.toFixed(1)}`);
    console.log(`  ratio (opencv time / argus time): metric ${(cvMetric / metricMs).toFixed(2)}, end to end ${(cvFull / fullMs).toFixed(2)} (> 1 means Argus is faster)`);
  } catch (err) {
    console.log(`  opencv baseline unavailable (apt-get install python3-opencv): ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
