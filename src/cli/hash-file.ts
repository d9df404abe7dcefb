import { open } from 'node:fs/promises';
import { mediaIdFromSamples, sampleRanges } from '../domain/media-id.js';

/** The content id of a file on disk, reading only the sampled bytes. */
export async function hashFile(file: string): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const ranges = sampleRanges(size);
    const buf = Buffer.alloc(ranges.reduce((n, r) => n + r.length, 0));
    let at = 0;
    for (const r of ranges) {
      await fh.read(buf, at, r.length, r.offset);
      at += r.length;
    }
    return mediaIdFromSamples(size, buf);
  } finally {
    await fh.close();
  }
}
