/**
 * A job's end when its handler cannot record it: the process running it died too often, or the handler crashed on
 * its last attempt. The end is stored, streamed and delivered (webhooks, callback) like any other.
 */
import { jobState } from '../domain/job.js';
import { emitJobEvent, type JobEventDeps } from './job-events.js';
import type { JobRecord } from './ports.js';

/** Dependencies of recording a job's end. */
export interface JobOutcomeDeps extends JobEventDeps {
  /** Told when a job has ended and its outcome is stored (webhooks, callbacks). */
  readonly onFinished?: (job: JobRecord) => Promise<void>;
}

/** Streams and delivers the end of a job whose final state is already stored. */
export async function announceEnd(deps: JobOutcomeDeps, job: JobRecord): Promise<void> {
  await emitJobEvent(deps, job.id, 'status', { status: jobState(job.status), ...(job.error ? { error_message: job.error } : {}) });
  await deps.onFinished?.(job);
}

/** Fails a running job (the run of `job.attempts` only) with `reason`, then announces it; false if it no longer ran so. */
export async function failJob(deps: JobOutcomeDeps, job: JobRecord, reason: string): Promise<boolean> {
  const at = deps.clock.now();
  if (!(await deps.jobs.update(job.id, { status: 'failed', error: reason, finishedAt: at }, at, job.attempts))) return false;
  await announceEnd(deps, { ...job, status: 'failed', error: reason, finishedAt: at });
  return true;
}
