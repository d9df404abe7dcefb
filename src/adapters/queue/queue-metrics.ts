/**
 * `argus_queue_jobs{kind,state}`: the jobs waiting, running and waiting to be retried, and those that ended in the
 * last hour, by kind — read from the jobs table (the record of every job, in both modes) when Prometheus scrapes;
 * `delayed` (retries waiting for their backoff) from BullMQ in the scale-out mode.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Clock, JobRepository } from '../../app/ports.js';
import { JOB_KINDS } from '../../domain/job.js';

const STATE_OF: Record<string, string> = { queued: 'waiting', running: 'active', succeeded: 'completed', failed: 'failed', cancelled: 'failed' };

/** Registers the gauge; `delayed` counts retries waiting in the shared queue by kind (absent: none). */
export function queueMetrics(registry: Registry, jobs: JobRepository, clock: Clock, delayed?: () => Promise<Record<string, number>>): void {
  new Gauge({
    name: 'argus_queue_jobs',
    help: 'Jobs by kind and state: waiting, active and delayed now; completed and failed in the last hour',
    labelNames: ['kind', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const kind of JOB_KINDS) for (const state of ['waiting', 'active', 'delayed', 'completed', 'failed']) this.set({ kind, state }, 0);
      const since = new Date(clock.now().getTime() - 3600_000);
      for (const c of await jobs.stateCounts(since)) this.inc({ kind: c.kind, state: STATE_OF[c.status] ?? c.status }, c.count);
      if (delayed) for (const [kind, n] of Object.entries(await delayed().catch(() => ({})))) this.set({ kind, state: 'delayed' }, n);
    },
  });
}
