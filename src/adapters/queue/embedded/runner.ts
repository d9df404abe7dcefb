/**
 * The embedded queue: an in-process runner whose state lives in the jobs table. It claims queued jobs (oldest
 * first) up to its concurrency, runs them through the handler, and on start puts back jobs a dead process left
 * running — or fails them once they have used all their attempts. A BullMQ adapter replaces it in scale-out mode
 * behind the same JobQueue port.
 */
import type { Logger } from 'pino';
import type { Clock, JobQueue, JobRecord, JobRepository } from '../../../app/ports.js';

/** Runner options. */
export interface EmbeddedRunnerOptions {
  readonly jobs: JobRepository;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Runs one job to its end; throws when interrupted by the signal (the job goes back to the queue). */
  readonly handler: (job: JobRecord, signal: AbortSignal) => Promise<void>;
  /** Fails a job for good (its last attempt crashed), announcing it; `announce` tells of one already failed by recovery. */
  readonly outcome: { fail(job: JobRecord, reason: string): Promise<boolean>; announce(job: JobRecord): Promise<void> };
  readonly concurrency: number;
  /** How often to look for work nobody announced (e.g. jobs queued by another process). */
  readonly pollMs: number;
  /** Reports a crash of the handler (to the error tracker), besides the log. */
  readonly report?: (err: unknown, job: JobRecord) => void;
}

/** Runs jobs in this process. */
export class EmbeddedJobRunner implements JobQueue {
  private readonly running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;
  private pumping = false;
  private again = false;
  /** The pump in progress (a claim may be in flight): stop() waits for it. */
  private pumpDone: Promise<void> = Promise.resolve();

  constructor(private readonly opts: EmbeddedRunnerOptions) {}

  /** Recovers jobs left running by a previous process, then starts taking work. */
  async start(): Promise<void> {
    const recovered = await this.opts.jobs.recover(this.opts.clock.now());
    if (recovered.requeued || recovered.failed.length) {
      this.opts.logger.warn({ requeued: recovered.requeued, failed: recovered.failed.length }, 'recovered jobs left running by a previous process');
    }
    // Jobs given up on are streamed and delivered like any other end.
    for (const job of recovered.failed) await this.opts.outcome.announce(job).catch((err: unknown) => this.opts.logger.error({ err, job_id: job.id }, 'could not announce a failed job'));
    this.stopped = false;
    this.timer = setInterval(() => this.notify(), this.opts.pollMs);
    this.timer.unref();
    this.notify();
  }

  /** Wakes the runner for a job just stored as queued. */
  async enqueue(): Promise<void> {
    this.notify();
  }

  /** Looks for queued jobs now. */
  notify(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    this.pumpDone = this.pump().finally(() => {
      this.pumping = false;
      if (this.again) {
        this.again = false;
        this.notify();
      }
    });
  }

  /** Stops taking work, interrupts running jobs and puts them back in the queue for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    // A claim in flight either launched its job before this point or puts it back (pump): wait for it, so no job
    // starts after the runner stopped and runs on against a closed database.
    await this.pumpDone;
    for (const r of this.running.values()) r.abort.abort();
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  /** Interrupts a running job (cancelled by its owner) and waits until it has stopped. */
  async interrupt(jobId: string): Promise<void> {
    const run = this.running.get(jobId);
    if (!run) return;
    run.abort.abort();
    await run.done;
  }

  private async pump(): Promise<void> {
    while (!this.stopped && this.running.size < this.opts.concurrency) {
      let job: JobRecord | null;
      try {
        job = await this.opts.jobs.claimNext(this.opts.clock.now());
      } catch (err) {
        this.opts.logger.error({ err }, 'could not claim a job');
        return;
      }
      if (!job) return;
      if (this.stopped) {
        // Claimed while the runner was stopping: back to the queue without counting the attempt, as an interrupted job.
        await this.opts.jobs.release(job.id, this.opts.clock.now()).catch((err: unknown) => this.opts.logger.error({ err, job_id: job.id }, 'could not put a job back in the queue'));
        return;
      }
      this.launch(job);
    }
  }

  /** Runs a job this process has already claimed (a live upload) under the runner's supervision. */
  adopt(job: JobRecord, run: (signal: AbortSignal) => Promise<void>): void {
    this.launch(job, run);
  }

  private launch(job: JobRecord, run?: (signal: AbortSignal) => Promise<void>): void {
    const abort = new AbortController();
    const log = this.opts.logger.child({ job_id: job.id });
    const done = (async () => {
      log.info({ kind: job.kind, attempt: job.attempts }, 'job started');
      try {
        await (run ? run(abort.signal) : this.opts.handler(job, abort.signal));
        log.info('job finished');
      } catch (err) {
        if (abort.signal.aborted && this.stopped) {
          await this.opts.jobs.release(job.id, this.opts.clock.now());
          log.info('job interrupted by shutdown; back in the queue');
        } else if (abort.signal.aborted) {
          log.info('job cancelled');
        } else {
          // The handler records every expected failure itself; this is a crash of the handler.
          log.error({ err }, 'job handler crashed');
          this.opts.report?.(err, job);
          const at = this.opts.clock.now();
          if (job.attempts >= job.maxAttempts) await this.opts.outcome.fail(job, `failed ${job.attempts} time(s): ${err instanceof Error ? err.message : String(err)}`);
          else await this.opts.jobs.update(job.id, { status: 'queued' }, at, job.attempts);
        }
      } finally {
        this.running.delete(job.id);
        this.notify();
      }
    })();
    this.running.set(job.id, { abort, done });
  }
}
