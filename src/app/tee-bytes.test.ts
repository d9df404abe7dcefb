import { describe, expect, it } from 'vitest';
import { teeBytes } from './tee-bytes.js';

async function* chunks(n: number, size: number, failAt?: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < n; i++) {
    if (i === failAt) throw new Error('upload broke');
    yield new Uint8Array(size).fill(i % 251);
  }
}

async function total(it: AsyncIterable<Uint8Array>, delayMs = 0): Promise<number> {
  let n = 0;
  for await (const c of it) {
    n += c.length;
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
  }
  return n;
}

describe('teeBytes', () => {
  it('gives both readers every byte, even when one is slow', async () => {
    const [a, b] = teeBytes(chunks(50, 1000), 4096);
    expect(await Promise.all([total(a), total(b, 1)])).toEqual([50_000, 50_000]);
  });

  it('lets one side carry on when the other stops reading', async () => {
    const [a, b] = teeBytes(chunks(50, 1000), 4096);
    const early = (async () => {
      for await (const _ of b) break;
    })();
    expect(await total(a)).toBe(50_000);
    await early;
  });

  it('fails both sides when the source fails', async () => {
    const [a, b] = teeBytes(chunks(50, 1000, 10), 4096);
    const [ra, rb] = await Promise.allSettled([total(a), total(b)]);
    expect(ra).toMatchObject({ status: 'rejected', reason: { message: 'upload broke' } });
    expect(rb).toMatchObject({ status: 'rejected', reason: { message: 'upload broke' } });
  });
});
