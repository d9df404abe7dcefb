import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

const run = promisify(execFile);
/** The compiled module (`npm test` builds dist/ first): the child processes below are plain Node. */
const MODULE = fileURLToPath(new URL('../../dist/main/heap-growth.js', import.meta.url));

/**
 * Full collections in a fresh process that sets `percent` at startup, keeps ~30 MB live and then promotes garbage
 * into the old generation: the fewer, the more room V8 leaves above the live heap.
 */
async function majorCollections(percent: number): Promise<number> {
  const script = `
    import { PerformanceObserver, constants } from 'node:perf_hooks';
    import { setHeapGrowth } from ${JSON.stringify(MODULE)};
    setHeapGrowth(${percent});
    globalThis.live = Array.from({ length: 300000 }, (_, i) => ({ a: i, b: 'x' + i }));
    let major = 0;
    new PerformanceObserver((l) => { for (const e of l.getEntries()) if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++; }).observe({ entryTypes: ['gc'] });
    const ring = new Array(200000);
    for (let i = 0; i < 3000000; i++) ring[i % ring.length] = { i, s: [i, i] };
    await new Promise((r) => setTimeout(r, 50));
    console.log(major, globalThis.live.length);`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
  return Number(stdout.trim().split(' ')[0]);
}

describe('setHeapGrowth', () => {
  it('changes how often V8 collects when set after startup (the flag is read at each limit, not frozen)', async () => {
    const [tight, roomy] = await Promise.all([majorCollections(10), majorCollections(300)]);
    // Measured here: 12 against 2 (V8's own choice gave 3).
    expect(tight).toBeGreaterThan(2 * roomy);
  });

  it('is configured by ARGUS_HEAP_GROWTH_PERCENT: 100 by default, 0 for V8 alone, at most 300', () => {
    expect(loadConfig({}).heapGrowthPercent).toBe(100);
    expect(loadConfig({ ARGUS_HEAP_GROWTH_PERCENT: '0' }).heapGrowthPercent).toBe(0);
    expect(() => loadConfig({ ARGUS_HEAP_GROWTH_PERCENT: '301' })).toThrow(/ARGUS_HEAP_GROWTH_PERCENT/);
  });
});
