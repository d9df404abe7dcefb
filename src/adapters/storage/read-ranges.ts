import { open } from 'node:fs/promises';

/** Reads byte ranges of a file and returns them concatenated; a short read (file changed or too small) throws. */
export async function readFileRanges(file: string, ranges: readonly { offset: number; length: number }[]): Promise<Buffer> {
  const buf = Buffer.alloc(ranges.reduce((n, r) => n + r.length, 0));
  const fh = await open(file, 'r');
  try {
    let at = 0;
    for (const r of ranges) {
      const { bytesRead } = await fh.read(buf, at, r.length, r.offset);
      if (bytesRead !== r.length) throw new Error(`short read of ${file} at ${r.offset}`);
      at += r.length;
    }
  } finally {
    await fh.close();
  }
  return buf;
}
