/** The heap growth of Argus's processes, for benches that run the pipeline in their own process. */
import { loadConfig } from '../main/config.js';
import { setHeapGrowth } from '../main/heap-growth.js';

/** Sets this process's heap growth as `argus serve` would: ARGUS_HEAP_GROWTH_PERCENT, read and checked by the config. */
export function benchHeapGrowth(): void {
  setHeapGrowth(loadConfig({ ...process.env, LOG_LEVEL: 'silent' }).heapGrowthPercent);
}
