/**
 * `npm run bench -- upload [GiB]`: streams a large upload through a real `argus serve` process and reports its
 * peak RSS and throughput, next to a baseline measured in the same run: writing the same bytes to a file
 * in-process with no HTTP in between.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';

const CHUNK = 1024 * 1024;

/** The upload body: a JPEG signature then `size` bytes of (repeated) random data. */
function* body(size: number, block: Buffer): Generator<Buffer> {
  yield Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  for (let sent = 0; sent < size; sent += CHUNK) yield sent + CHUNK <= size ? block : block.subarray(0, size - sent);
}

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

/** Runs the benchmark and prints its figures. */
export async function benchUpload(gib: number): Promise<void> {
  const size = Math.round(gib * 1024 ** 3);
  const block = randomBytes(CHUNK);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'argus-bench-'));
  try {
    // Baseline: the same bytes to a file, in-process.
    let t0 = performance.now();
    await pipeline(Readable.from(body(size, block)), createWriteStream(path.join(dir, 'baseline.bin')));
    const baselineSec = (performance.now() - t0) / 1000;
    await rm(path.join(dir, 'baseline.bin'));

    const port = 30_000 + Math.floor(Math.random() * 10_000);
    const api = fileURLToPath(new URL('../main/api.js', import.meta.url));
    const server = spawn(process.execPath, [api], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', ARGUS_DATA_DIR: dir, ARGUS_AUTH: 'off', LOG_LEVEL: 'warn', ARGUS_MAX_UPLOAD_BYTES: String(size * 2) },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    for (let i = 0; ; i++) {
      try {
        await fetch(`http://127.0.0.1:${port}/health/live`);
        break;
      } catch {
        if (i > 100) throw new Error('server did not start');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const idleRss = await rssOf(server.pid!);
    let peak = idleRss;
    const sampler = setInterval(() => {
      rssOf(server.pid!).then((r) => (peak = Math.max(peak, r)), () => undefined);
    }, 50);

    const boundary = 'benchboundary';
    const head = Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="big.jpg"\r\ncontent-type: image/jpeg\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    t0 = performance.now();
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/api/v1/media', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      pipeline(
        Readable.from(
          (function* () {
            yield head;
            yield* body(size, block);
            yield tail;
          })(),
        ),
        req,
      ).catch(reject);
    });
    const uploadSec = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    server.kill('SIGTERM');

    const mib = (b: number) => (b / 1024 ** 2).toFixed(0);
    const rate = (sec: number) => ((size / 1024 ** 2) / sec).toFixed(0);
    console.log(`upload of ${gib} GiB: HTTP ${status}`);
    console.log(`  server RSS: idle ${mib(idleRss)} MiB, peak ${mib(peak)} MiB (target < 300 MiB)`);
    console.log(`  baseline (in-process file write): ${rate(baselineSec)} MiB/s`);
    console.log(`  upload through argus serve:       ${rate(uploadSec)} MiB/s  (ratio ${(baselineSec / uploadSec).toFixed(2)} of baseline)`);
    if (status !== 201) process.exitCode = 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
