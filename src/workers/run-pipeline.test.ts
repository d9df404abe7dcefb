import { describe, expect, it } from 'vitest';
import { runPipeline } from './video-job.js';

/** Frames 0..n-1, each handed out on a later turn of the event loop (failing at `failAt`); counts and closing told in `state`. */
function source(n: number, failAt = -1): { frames: (signal: AbortSignal) => AsyncIterable<number>; state: { pulled: number; closed: boolean } } {
  const state = { pulled: 0, closed: false };
  async function* frames(signal: AbortSignal): AsyncGenerator<number> {
    try {
      for (let i = 0; i < n; i++) {
        await new Promise((r) => setImmediate(r));
        signal.throwIfAborted();
        if (i === failAt) throw new Error(`source failed at ${i}`);
        state.pulled++;
        yield i;
      }
    } finally {
      state.closed = true;
    }
  }
  return { frames, state };
}

/** Work that finishes out of order (later frames sooner), counting how many run at once. */
function work(failAt = -1): { run: (f: number) => Promise<number>; state: { running: number; most: number; settled: number } } {
  const state = { running: 0, most: 0, settled: 0 };
  const run = async (f: number): Promise<number> => {
    state.running++;
    state.most = Math.max(state.most, state.running);
    for (let k = 0; k < 3 - (f % 3); k++) await new Promise((r) => setImmediate(r));
    state.running--;
    state.settled++;
    if (f === failAt) throw new Error(`work failed at ${f}`);
    return f * 10;
  };
  return { run, state };
}

describe('runPipeline', () => {
  it('hands every result on in frame order, with at most inFlight frames worked on at once', async () => {
    const src = source(50);
    const w = work();
    const got: number[] = [];
    await runPipeline(src.frames, w.run, async (r) => void got.push(r), 3, new AbortController().signal);
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => i * 10));
    expect(w.state.most).toBeLessThanOrEqual(3);
    expect(w.state.most).toBeGreaterThan(1);
    expect(src.state.closed).toBe(true);
  });

  it('throws the first failure of a frame, once nothing is running, and finishes nothing after it', async () => {
    const src = source(50);
    const w = work(7);
    const got: number[] = [];
    await expect(runPipeline(src.frames, w.run, async (r) => void got.push(r), 3, new AbortController().signal)).rejects.toThrow('work failed at 7');
    // In order, and none from the failed frame on (frames just before it may be left unfinished: the job fails).
    expect(got.length).toBeLessThanOrEqual(7);
    expect(got).toEqual(got.map((_, i) => i * 10));
    expect(w.state.running).toBe(0);
    expect(src.state.closed).toBe(true);
    expect(src.state.pulled).toBeLessThan(50);
  });

  it('throws a failure of finish and stops the source', async () => {
    const src = source(50);
    const w = work();
    const finish = async (r: number): Promise<void> => {
      if (r === 40) throw new Error('finish failed');
    };
    await expect(runPipeline(src.frames, w.run, finish, 2, new AbortController().signal)).rejects.toThrow('finish failed');
    expect(w.state.running).toBe(0);
    expect(src.state.closed).toBe(true);
    expect(src.state.pulled).toBeLessThan(50);
  });

  it('throws a failure of the source after finishing the frames before it', async () => {
    const src = source(50, 12);
    const got: number[] = [];
    await expect(runPipeline(src.frames, work().run, async (r) => void got.push(r), 3, new AbortController().signal)).rejects.toThrow('source failed at 12');
    expect(got.length).toBeLessThanOrEqual(12);
    expect(got).toEqual(got.map((_, i) => i * 10));
  });

  it('throws a source that cannot start', async () => {
    const frames = (): AsyncIterable<number> => {
      throw new Error('no decoder');
    };
    await expect(runPipeline(frames, work().run, async () => undefined, 3, new AbortController().signal)).rejects.toThrow('no decoder');
  });

  it('stops a source that is waiting for input when the job is aborted', async () => {
    const job = new AbortController();
    let closed = false;
    async function* frames(signal: AbortSignal): AsyncGenerator<number> {
      try {
        yield 0;
        // Waits for input that never comes, until aborted.
        await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
      } finally {
        closed = true;
      }
    }
    const finish = async (): Promise<void> => job.abort(new Error('cancelled'));
    await expect(runPipeline(frames, work().run, finish, 2, job.signal)).rejects.toThrow('cancelled');
    expect(closed).toBe(true);
  });

  it('stops a source that is waiting for input at the first failure', async () => {
    let closed = false;
    async function* frames(signal: AbortSignal): AsyncGenerator<number> {
      try {
        yield 0;
        await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
      } finally {
        closed = true;
      }
    }
    const finish = async (): Promise<void> => {
      throw new Error('stored nothing');
    };
    await expect(runPipeline(frames, work().run, finish, 2, new AbortController().signal)).rejects.toThrow('stored nothing');
    expect(closed).toBe(true);
  });
});
