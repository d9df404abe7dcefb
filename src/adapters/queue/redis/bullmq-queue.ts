/**
 * The shared queue of the scale-out mode, on BullMQ. The jobs table stays the record of every job (its status,
 * progress, results, attempts); BullMQ only carries job ids to whichever worker is free, and notices a worker that
 * died (its lock lapses) so another takes the job over. Cancellations go to every worker over a Redis channel.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobQueue, JobRecord } from '../../../app/ports.js';

/** The BullMQ queue every API and worker process shares. */
export const QUEUE_NAME = 'argus-jobs';
/** Where cancellations are announced to the workers. */
export const CONTROL_CHANNEL = 'argus:control';

/** A message on the control channel. */
export interface ControlMessage {
  readonly type: 'cancel';
  readonly jobId: string;
}

/** What BullMQ carries for one job: only its id (the database has the rest). */
export interface QueuedJob {
  readonly id: string;
}

/** The producer side: API processes (and workers' reconciliation) add jobs; anyone may cancel one. */
export class BullmqJobQueue implements JobQueue {
  constructor(
    readonly queue: Queue<QueuedJob>,
    private readonly pub: Redis,
    /** Stops a job this process runs itself (a worker), besides telling the others. */
    private readonly local?: { interrupt(jobId: string): Promise<void> },
  ) {}

  /** Opens the queue on a BullMQ connection. */
  static open(connection: Redis, pub: Redis, local?: { interrupt(jobId: string): Promise<void> }): BullmqJobQueue {
    return new BullmqJobQueue(new Queue<QueuedJob>(QUEUE_NAME, { connection }), pub, local);
  }

  async enqueue(job: JobRecord): Promise<void> {
    // The job id is BullMQ's id too: adding a job that is already waiting or running changes nothing, so enqueueing
    // again (reconciliation) is always safe. Finished entries are dropped at once; the jobs table keeps the record.
    await this.queue.add(job.kind, { id: job.id }, {
      jobId: job.id,
      removeOnComplete: true,
      removeOnFail: true,
      // A handler crash is retried by BullMQ after a pause; the jobs table decides when to give up (maxAttempts).
      attempts: job.maxAttempts + 1,
      backoff: { type: 'exponential', delay: 2000 },
    });
  }

  async interrupt(jobId: string): Promise<void> {
    const message: ControlMessage = { type: 'cancel', jobId };
    await this.pub.publish(CONTROL_CHANNEL, JSON.stringify(message)).catch(() => undefined);
    // Not started yet: taken out of the queue (its row says cancelled either way, so a worker would skip it).
    const waiting = await this.queue.getJob(jobId).catch(() => undefined);
    if (waiting && ((await waiting.isWaiting().catch(() => false)) || (await waiting.isDelayed().catch(() => false)))) await waiting.remove().catch(() => undefined);
    await this.local?.interrupt(jobId);
  }

  /** Where a job stands in BullMQ: 'missing' when BullMQ does not know it (finished, or lost with Redis). */
  async state(jobId: string): Promise<string> {
    const job = await this.queue.getJob(jobId);
    return job ? await job.getState() : 'missing';
  }

  /** Retries waiting for their backoff, by kind. */
  async delayedByKind(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const job of await this.queue.getJobs(['delayed'], 0, 999)) counts[job.name] = (counts[job.name] ?? 0) + 1;
    return counts;
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
