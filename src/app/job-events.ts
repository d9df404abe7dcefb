/** Recording a job event: stored first (for replay and Last-Event-ID), then published to live listeners. */
import type { JobEvent } from '../domain/job.js';
import type { Clock, JobEventBus, JobRepository } from './ports.js';

/** Dependencies of event emission. */
export interface JobEventDeps {
  readonly jobs: JobRepository;
  readonly bus: JobEventBus;
  readonly clock: Clock;
}

/** A job stopped under a running handler (cancelled, or taken over by another worker): the handler must stop. */
export class JobInterrupted extends Error {}

/** Stores and publishes one event of a job; JobInterrupted when the job no longer runs (nothing is stored then). */
export async function emitJobEvent(deps: JobEventDeps, jobId: string, type: JobEvent['type'], data: Record<string, unknown>): Promise<JobEvent> {
  const event = await deps.jobs.appendEvent(jobId, type, data, deps.clock.now());
  if (!event) throw new JobInterrupted('the job no longer runs');
  deps.bus.publish(jobId, event);
  return event;
}
