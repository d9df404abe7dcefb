/**
 * Downloads a model file and checks its SHA-256 on the way: the bytes are hashed as they are written to a
 * partial file, which becomes the model only when the checksum matches. A failed or mismatched download leaves
 * nothing behind.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ModelManifest } from '../../domain/model-manifest.js';

/** Progress of one download: bytes so far and the total when the server says it. */
export type DownloadProgress = (received: number, total: number | null) => void;

/** The address a model is pulled from: its upstream URL, or the same file name under a mirror. */
export function modelUrl(manifest: ModelManifest, mirror?: string): string | null {
  if (mirror) return new URL(encodeURIComponent(manifest.file), mirror.endsWith('/') ? mirror : `${mirror}/`).href;
  return manifest.url ?? null;
}

/** Downloads `url` into `dir` as the manifest's file; throws (keeping nothing) on HTTP errors or a bad checksum. */
export async function downloadModel(manifest: ModelManifest, url: string, dir: string, onProgress?: DownloadProgress, timeoutMs = 10 * 60_000): Promise<string> {
  await mkdir(dir, { recursive: true });
  const target = path.join(dir, manifest.file);
  const partial = `${target}.partial-${process.pid}`;
  let out: WriteStream | undefined;
  try {
    const response = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok || !response.body) throw new Error(`GET ${url} answered ${response.status} ${response.statusText}`);
    const length = Number(response.headers.get('content-length'));
    const total = Number.isFinite(length) && length > 0 ? length : null;
    const hash = createHash('sha256');
    let received = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        received += chunk.length;
        onProgress?.(received, total);
        done(null, chunk);
      },
    });
    out = createWriteStream(partial);
    await pipeline(Readable.fromWeb(response.body), meter, out);
    const actual = hash.digest('hex');
    if (manifest.sha256 && actual !== manifest.sha256) {
      throw new Error(`${manifest.file} from ${url} has sha256 ${actual}, expected ${manifest.sha256}; not kept`);
    }
    await rename(partial, target);
    return target;
  } finally {
    // A failed pipeline() does not wait for a file still being opened: remove it only once the stream has closed.
    if (out && !out.closed) await once(out, 'close').catch(() => undefined);
    await rm(partial, { force: true });
  }
}
