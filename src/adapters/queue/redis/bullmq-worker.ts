/**
 * The consumer side of the shared queue: a worker process takes job ids from BullMQ, claims each job in the
 * database (which counts the attempt), and runs it through the same handler the embedded runner uses.
 *
 * - A worker that dies loses its BullMQ lock; after `lockDurationMs` another worker's stalled-job check puts the job
 *   back and someone runs it again (batch items already done are kept). The database, not BullMQ, decides when a job
 *   has been tried often enough (`maxAttempts`): a job claimed once more than that fails with the reason.
 * - Every update a run makes is fenced by its attempt number, so a run whose job was taken over changes nothing.
 * - Cancellations arrive on the control channel and stop the local run (ffmpeg is killed through the signal).
 * - Reconciliation heals what Redis may lose (it keeps nothing on disk here): stored queued jobs that sit idle are
 *   enqueued again, and running jobs BullMQ no longer knows are put back in the queue.
 */
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Gauge, Histogram, type Registry } from 'prom-client';
import { JobInterrupted } from '../../../app/job-events.js';
import type { Clock, JobRecord, JobRepository } from '../../../app/ports.js';
import { isFinished } from '../../../domain/job.js';
import { CONTROL_CHANNEL, QUEUE_NAME, type BullmqJobQueue, type ControlMessage, type QueuedJob } from './bullmq-queue.js';

/** What a worker needs. */
export interface SharedWorkerOptions {
  readonly jobs: JobRepository;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The worker's name in logs and metrics. */
  readonly name: string;
  readonly concurrency: number;
  /** How long a job's lock lasts without renewal: a dead worker's job is taken over after about this long. */
  readonly lockDurationMs: number;
  /** How often this worker looks for stalled jobs (those whose worker died). */
  readonly stalledIntervalMs: number;
  /** How often stored queued jobs and BullMQ are reconciled. */
  readonly reconcileMs: number;
  /** Runs one job to its end; throws when interrupted by the signal. */
  readonly handler: (job: JobRecord, signal: AbortSignal) => Promise<void>;
  /** Fails a job for good, announcing it. */
  readonly fail: (job: JobRecord, reason: string) => Promise<boolean>;
  readonly metrics: Registry;
  /** Reports a crash of the handler (to the error tracker), besides the log. */
  readonly report?: (err: unknown, job: JobRecord) => void;
}

/** A worker process's consumer of the shared queue. */
export class BullmqJobWorker {
  private worker: Worker<QueuedJob> | null = null;
  private readonly running = new Map<string, { abort: AbortController; done: Promise<unknown> }>();
  private stopping = false;
  private reconciler: NodeJS.Timeout | null = null;
  private readonly active: Gauge<'worker'>;
  private readonly durations: Histogram<'kind' | 'outcome'>;

  constructor(
    private readonly opts: SharedWorkerOptions,
    private readonly queue: BullmqJobQueue,
    private readonly connection: Redis,
    private readonly control: Redis,
  ) {
    this.active = new Gauge({ name: 'argus_worker_active_jobs', help: 'Jobs this worker is running', labelNames: ['worker'], registers: [opts.metrics] });
    this.durations = new Histogram({
      name: 'argus_job_duration_seconds',
      help: 'Time to run a job, from claim to its end, by kind and outcome',
      labelNames: ['kind', 'outcome'],
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600],
      registers: [opts.metrics],
    });
    this.active.set({ worker: opts.name }, 0);
  }

  /** Starts taking jobs, listening for cancellations and reconciling. */
  async start(): Promise<void> {
    this.control.on('message', (channel: string, message: string) => {
      if (channel !== CONTROL_CHANNEL) return;
      try {
        const m = JSON.parse(message) as ControlMessage;
        if (m.type === 'cancel') void this.interrupt(m.jobId);
      } catch {
        // Not one of ours.
      }
    });
    await this.control.subscribe(CONTROL_CHANNEL);
    this.worker = new Worker<QueuedJob>(QUEUE_NAME, (job) => this.process(job), {
      connection: this.connection,
      concurrency: this.opts.concurrency,
      lockDuration: this.opts.lockDurationMs,
      stalledInterval: this.opts.stalledIntervalMs,
      // BullMQ would fail a job that stalled once; the jobs table's attempts decide instead.
      maxStalledCount: 1000,
      name: this.opts.name,
    });
    this.worker.on('error', (err) => this.opts.logger.warn({ err: err.message }, 'queue connection problem'));
    this.reconciler = setInterval(() => void this.reconcile().catch((err: unknown) => this.opts.logger.warn({ err }, 'reconciliation failed')), this.opts.reconcileMs);
    this.reconciler.unref();
    void this.reconcile().catch(() => undefined);
  }

  /** Stops a job this worker runs (its owner cancelled it); resolves once it has stopped. */
  async interrupt(jobId: string): Promise<void> {
    const run = this.running.get(jobId);
    if (!run) return;
    run.abort.abort();
    // Its rejection (JobInterrupted) is the processor's to handle.
    await run.done.catch(() => undefined);
  }

  /** Stops taking work, interrupts running jobs (they go back to the queue, attempt not counted) and closes. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.reconciler) clearInterval(this.reconciler);
    for (const run of this.running.values()) run.abort.abort();
    await Promise.all([...this.running.values()].map((r) => r.done.catch(() => undefined)));
    await this.worker?.close();
    await this.control.unsubscribe(CONTROL_CHANNEL).catch(() => undefined);
  }

  private async process(queued: Job<QueuedJob>): Promise<void> {
    const { jobs, clock, logger } = this.opts;
    const job = await jobs.claim(queued.data.id, clock.now());
    // Cancelled, finished or removed meanwhile: nothing to do.
    if (!job) return;
    const log = logger.child({ job_id: job.id, worker: this.opts.name });
    if (job.attempts > job.maxAttempts) {
      await this.opts.fail(job, `the worker stopped ${job.attempts - 1} time(s) while running this job; giving up`);
      log.warn({ attempts: job.attempts - 1 }, 'job given up after its workers stopped');
      return;
    }
    const abort = new AbortController();
    const started = performance.now();
    log.info({ kind: job.kind, attempt: job.attempts }, 'job started');
    const done = this.opts.handler(job, abort.signal);
    this.running.set(job.id, { abort, done });
    this.active.set({ worker: this.opts.name }, this.running.size);
    try {
      await done;
      const ended = await jobs.get(job.id);
      this.durations.observe({ kind: job.kind, outcome: ended?.status === 'succeeded' ? 'succeeded' : 'failed' }, (performance.now() - started) / 1000);
      log.info({ status: ended?.status }, 'job finished');
    } catch (err) {
      if (abort.signal.aborted && this.stopping) {
        // Shutting down: the job goes back to the queue (attempt not counted) and BullMQ hands it to another worker.
        await jobs.release(job.id, clock.now());
        log.info('job interrupted by shutdown; back in the queue');
        throw new Error('the worker shut down; the job is back in the queue', { cause: err });
      }
      if (abort.signal.aborted || err instanceof JobInterrupted) {
        log.info('job cancelled or taken over');
        return;
      }
      log.error({ err }, 'job handler crashed');
      this.opts.report?.(err, job);
      const reason = `failed ${job.attempts} time(s): ${err instanceof Error ? err.message : String(err)}`;
      if (job.attempts >= job.maxAttempts) {
        await this.opts.fail(job, reason);
        return;
      }
      // Back to queued, and BullMQ retries after its backoff.
      await jobs.update(job.id, { status: 'queued' }, clock.now(), job.attempts);
      throw err;
    } finally {
      this.running.delete(job.id);
      this.active.set({ worker: this.opts.name }, this.running.size);
    }
  }

  /** Enqueues stored queued jobs that sit idle, and puts back running jobs that BullMQ no longer knows. */
  async reconcile(): Promise<{ enqueued: number; requeued: number }> {
    const now = this.opts.clock.now().getTime();
    let enqueued = 0;
    let requeued = 0;
    for (const job of await this.opts.jobs.idle('queued', new Date(now - this.opts.reconcileMs), 200)) {
      const state = await this.queue.state(job.id);
      if (state === 'missing' || state === 'failed' || state === 'completed') {
        if (state !== 'missing') await this.queue.queue.remove(job.id).catch(() => undefined);
        await this.queue.enqueue(job);
        enqueued++;
      }
    }
    // Running jobs report progress at least every few seconds; one silent for this long whose BullMQ entry is gone
    // lost its worker together with Redis's memory of it.
    const silentFor = Math.max(3 * this.opts.lockDurationMs, 60_000);
    for (const job of await this.opts.jobs.idle('running', new Date(now - silentFor), 200)) {
      if (this.running.has(job.id)) continue;
      const state = await this.queue.state(job.id);
      if (state === 'active' || state === 'waiting' || state === 'delayed' || state === 'waiting-children' || state === 'prioritized') continue;
      if (await this.opts.jobs.requeue(job.id, this.opts.clock.now())) {
        if (state !== 'missing') await this.queue.queue.remove(job.id).catch(() => undefined);
        const fresh = await this.opts.jobs.get(job.id);
        if (fresh && !isFinished(fresh.status)) await this.queue.enqueue(fresh);
        requeued++;
      }
    }
    if (enqueued || requeued) this.opts.logger.warn({ enqueued, requeued }, 'reconciled stored jobs with the queue');
    return { enqueued, requeued };
  }
}
