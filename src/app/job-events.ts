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

/** How `JobEventStream` batches: at most this many queued events, held at most this long. */
export interface EventBatching {
  readonly maxBatch: number;
  readonly maxDelayMs: number;
}

/**
 * The events of one running job in the order it emits them, with the frequent ones (a video's `frame` events) stored
 * in batches: one statement per batch instead of one per frame, which on the embedded database is a millisecond or
 * two of the job's thread each (a quarter of its main-thread time per analysed frame at ~100 frames/s). A queued
 * event is stored and published at most `maxDelayMs` later, and always before any event emitted after it, so
 * replay order and sequence numbers are as if each had been stored alone. A batch that fails (the job was cancelled
 * under it) fails the next call. `close()` drops what is still queued (the job is ending without it).
 */
export class JobEventStream {
  private queued: Pick<JobEvent, 'type' | 'data'>[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** Every store in call order: a timed flush never overtakes an emit or another flush. */
  private chain: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | null = null;

  constructor(
    private readonly deps: JobEventDeps,
    private readonly jobId: string,
    private readonly batching: EventBatching = { maxBatch: 16, maxDelayMs: 100 },
  ) {}

  /** Queues an event for the next batch (stored now if the batch is full). */
  async queue(type: JobEvent['type'], data: Record<string, unknown>): Promise<void> {
    if (this.failure) throw this.failure.error;
    this.queued.push({ type, data });
    if (this.queued.length >= this.batching.maxBatch) return this.flush();
    // The timer's own failure is kept in `failure` (see flush) and thrown by the next call.
    this.timer ??= setTimeout(() => void this.flush().catch(() => undefined), this.batching.maxDelayMs);
  }

  /** Stores and publishes an event after every queued one. */
  async emit(type: JobEvent['type'], data: Record<string, unknown>): Promise<JobEvent> {
    await this.flush();
    return emitJobEvent(this.deps, this.jobId, type, data);
  }

  /** Stores and publishes every queued event; JobInterrupted when the job no longer runs. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.queued;
    this.queued = [];
    const stored = this.chain.then(async () => {
      if (this.failure) throw this.failure.error;
      if (batch.length === 0) return;
      const events = await this.deps.jobs.appendEvents(this.jobId, batch, this.deps.clock.now());
      if (!events) throw new JobInterrupted('the job no longer runs');
      for (const e of events) this.deps.bus.publish(this.jobId, e);
    });
    this.chain = stored.catch((error: unknown) => {
      this.failure ??= { error };
    });
    return stored;
  }

  /** Stops the timer and drops what is queued; resolves once a store already under way has finished. */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queued = [];
    await this.chain;
  }
}
