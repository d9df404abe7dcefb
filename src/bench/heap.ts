/** The heap growth of Argus's processes, for benches that run the pipeline in their own process. */
import { DEFAULT_HEAP_GROWTH_PERCENT, setHeapGrowth } from '../main/heap-growth.js';

/** Sets this process's heap growth as `argus serve` would (ARGUS_HEAP_GROWTH_PERCENT, else the default). */
export function benchHeapGrowth(): void {
  const set = process.env.ARGUS_HEAP_GROWTH_PERCENT;
  setHeapGrowth(set === undefined || set === '' ? DEFAULT_HEAP_GROWTH_PERCENT : Number(set));
}
