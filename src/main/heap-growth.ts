/**
 * How far V8 lets the JavaScript heap grow past its live size before it starts a full collection.
 *
 * Argus's heap is small (~35 MB live with every model loaded) while megabytes of decoded pixels and tensors pass
 * through it per image as external memory. V8 sizes the next collection's limit by a factor of the live size that
 * it picks between 1.1 and 4; here it settled near 1.7, leaving ~24 MB of room, and with that little room it
 * started incremental marking every two photos or so (bibs, 2 at a time: 92 major collections per 200 photos,
 * ~4.8 ms of pauses per photo plus the marking steps, ~17 ms of CPU per photo in all). A factor of 2 (growth
 * percent 100) leaves room enough: 29 major collections, 1.5 ms per photo. The live heap stays the same; only
 * garbage waits longer, and what is allocated on the JavaScript heap per photo is ~0.2 MB.
 *
 * `--heap-growing-percent` is read each time V8 recomputes its limits, so it takes effect when set at startup;
 * `--initial-old-space-size`, which would do the same from a fixed floor, only works on the command line.
 */
import v8 from 'node:v8';

/** The growth percent used when ARGUS_HEAP_GROWTH_PERCENT is not set. */
export const DEFAULT_HEAP_GROWTH_PERCENT = 100;

/** Sets V8's heap growth for this process; 0 leaves V8's own choice. Call once, at startup. */
export function setHeapGrowth(percent: number = DEFAULT_HEAP_GROWTH_PERCENT): void {
  if (percent > 0) v8.setFlagsFromString(`--heap-growing-percent=${Math.round(percent)}`);
}
