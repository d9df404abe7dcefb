/**
 * Splits one byte stream into two that each see every chunk — an upload going to disk and to the video decoder
 * at once. Each side buffers at most `maxLag` bytes ahead of its reader; past that the source waits, so memory
 * stays bounded. A side whose reader stops early is detached and the other carries on; a failing source fails both.
 */
import { once } from 'node:events';
import { PassThrough } from 'node:stream';

/** Two readers of one byte stream. */
export function teeBytes(source: AsyncIterable<Uint8Array>, maxLag: number): [AsyncIterable<Uint8Array>, AsyncIterable<Uint8Array>] {
  const sides = [new PassThrough({ highWaterMark: maxLag }), new PassThrough({ highWaterMark: maxLag })] as const;
  const pump = async (): Promise<void> => {
    try {
      for await (const chunk of source) {
        const waits: Promise<unknown>[] = [];
        for (const side of sides) {
          if (side.destroyed) continue;
          // A reader that stops destroys its side, which ends the wait (with an abort error, ignored) instead of draining.
          if (!side.write(chunk)) waits.push(Promise.race([once(side, 'drain'), once(side, 'close')]).catch(() => undefined));
        }
        await Promise.all(waits);
      }
      for (const side of sides) side.end();
    } catch (err) {
      for (const side of sides) side.destroy(err instanceof Error ? err : new Error(String(err)));
    }
  };
  void pump();
  return [sides[0], sides[1]];
}
