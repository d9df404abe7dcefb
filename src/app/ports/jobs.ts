/** Ports: async jobs: their rows, frames and events, the live event bus and the queue; stored analyses of a medium. */
import type { AiSettings } from '../../domain/ai-settings.js';
import type { JobEvent, JobInput, JobKind, JobOptions, JobStatus, JobTask } from '../../domain/job.js';

/** The stored result of one analysis task on one medium. */
export interface AnalysisRecord {
  readonly ownerId: string;
  readonly mediaId: string;
  readonly task: 'detect' | 'faces' | 'bibs' | 'blur';
  readonly model: string;
  readonly result: Record<string, unknown>;
  readonly createdAt: Date;
}

/** Persistence of analysis results; the latest result per medium and task wins. */
export interface AnalysisRepository {
  save(record: AnalysisRecord): Promise<void>;
  find(ownerId: string, mediaId: string, task: AnalysisRecord['task']): Promise<AnalysisRecord | null>;
}

/** A job as stored. */
export interface JobRecord {
  readonly id: string;
  readonly ownerId: string;
  readonly kind: JobKind;
  readonly inputs: JobInput[];
  readonly tasks: JobTask[];
  readonly settings: AiSettings;
  readonly status: JobStatus;
  readonly progress: { done: number; total: number };
  /** Per-item results of image and batch jobs, by input index (null until done). */
  readonly items: (Record<string, unknown> | null)[];
  readonly result: Record<string, unknown> | null;
  readonly error: string | null;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly callbackUrl: string | null;
  readonly options: JobOptions;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
}

/** What a running job may change about itself. */
export type JobPatch = Partial<Pick<JobRecord, 'status' | 'progress' | 'items' | 'result' | 'error' | 'finishedAt'>>;

/** One analysed frame of a video job as stored: its index and time, and what was found on it (`data`). */
export interface JobFrame {
  readonly index: number;
  /** Seconds from the start of the video. */
  readonly timestamp: number;
  readonly data: Record<string, unknown>;
}

/** Which of a job's frames to read: after a frame index (keyset), within [from, to] seconds, at most `limit`. */
export interface JobFrameQuery {
  readonly after?: number;
  readonly from?: number;
  readonly to?: number;
  readonly limit: number;
}

/** Persistence of jobs and their events. */
export interface JobRepository {
  insert(job: JobRecord): Promise<void>;
  /** One owner's job (another owner's is invisible). */
  find(ownerId: string, id: string): Promise<JobRecord | null>;
  get(id: string): Promise<JobRecord | null>;
  list(ownerId: string, query: { status?: JobStatus; limit: number; offset: number }): Promise<{ items: JobRecord[]; total: number }>;
  /** Takes the oldest queued job: marks it running and counts the attempt. Null when none is queued. */
  claimNext(at: Date): Promise<JobRecord | null>;
  /**
   * After a restart: jobs left running by a process that died go back to the queue, or fail once they have used
   * all their attempts. Returns how many were requeued and failed.
   */
  recover(at: Date): Promise<{ requeued: number; failed: JobRecord[] }>;
  /**
   * Updates a job that is still running; false if it was cancelled (or finished) meanwhile. With `attempt`, only
   * the run of that attempt may: a run whose job was taken over by another worker (it stalled) changes nothing.
   */
  update(id: string, patch: JobPatch, at: Date, attempt?: number): Promise<boolean>;
  /** Takes one job by id to run it (scale-out: the queue handed it over): running, attempt counted. Null unless queued or running. */
  claim(id: string, at: Date): Promise<JobRecord | null>;
  /** Jobs in `status` not changed since `before`, oldest first (for the queue's reconciliation). */
  idle(status: 'queued' | 'running', before: Date, limit: number): Promise<JobRecord[]>;
  /** How many jobs of each kind are queued or running now, or ended (by status) since `since`. */
  stateCounts(since: Date): Promise<{ kind: JobKind; status: JobStatus; count: number }[]>;
  /** Puts a running job back in the queue as it is (its run was lost with the queue); false if it was not running. */
  requeue(id: string, at: Date): Promise<boolean>;
  /** Replaces a job's inputs (an upload analysed live becomes its stored medium). */
  setInputs(id: string, inputs: JobInput[], at: Date): Promise<void>;
  /** Puts a running job back in the queue without counting the attempt (graceful shutdown). */
  release(id: string, at: Date): Promise<void>;
  /** Puts a job back in the queue with a new shape, from scratch: progress, items and events cleared. */
  restart(id: string, change: Pick<JobRecord, 'inputs' | 'tasks' | 'options' | 'callbackUrl'>, at: Date): Promise<JobRecord | null>;
  /** Removes a job and its events (a job whose request was refused before it was answered). */
  delete(id: string): Promise<void>;
  /** Cancels a queued or running job; returns the job after the change, or null if it does not exist. */
  cancel(ownerId: string, id: string, at: Date): Promise<JobRecord | null>;
  /**
   * Stores an event of a job. Only `status` events may be added to a job that is not running: null means the job
   * was cancelled (or taken over) and the event was not stored, so a stopped job never streams anything more.
   */
  appendEvent(jobId: string, type: JobEvent['type'], data: Record<string, unknown>, at: Date): Promise<JobEvent | null>;
  /**
   * Stores several events of a running job (no `status` events) in one statement, in order: their sequence numbers
   * rise in the order given. Null, with nothing stored, when the job no longer runs.
   */
  appendEvents(jobId: string, events: readonly Pick<JobEvent, 'type' | 'data'>[], at: Date): Promise<JobEvent[] | null>;
  events(jobId: string, afterSeq: number): Promise<JobEvent[]>;
  /**
   * Stores analysed frames of a video job in one statement, replacing stored frames of the same index. Fenced like
   * `update` with `attempt`: false (nothing stored) unless the job is still running that attempt.
   */
  putFrames(jobId: string, attempt: number, frames: readonly JobFrame[]): Promise<boolean>;
  /** Removes a job's stored frames as a run starts over; fenced like `putFrames` (false: nothing removed). */
  clearFrames(jobId: string, attempt: number): Promise<boolean>;
  /** A page of a job's stored frames in index order (ask `limit + 1` to learn whether another page follows). */
  frames(jobId: string, query: JobFrameQuery): Promise<JobFrame[]>;
}

/** Live job events across the process (or, scaled out, across processes). */
export interface JobEventBus {
  publish(jobId: string, event: JobEvent): void;
  /**
   * Calls `listener` for each new event of the job; resolves with the unsubscribe function once events published
   * from then on are sure to arrive (a Redis subscription is confirmed).
   */
  subscribe(jobId: string, listener: (event: JobEvent) => void): Promise<() => void>;
}

/** The queue as the API sees it: durable state is in the repository; this wakes whoever runs jobs. */
export interface JobQueue {
  /**
   * Has a stored, queued job run: wakes this process's runner (embedded), or adds it to the shared queue the worker
   * processes take from (scale-out). A job stored but not yet enqueued (the queue was down) is still never lost:
   * the stored queued jobs are enqueued again until one runs.
   */
  enqueue(job: JobRecord): Promise<void>;
  /** Stops a job wherever it runs (its owner cancelled it); resolves once it has stopped if it ran in this process. */
  interrupt(jobId: string): Promise<void>;
}
