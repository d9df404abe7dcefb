/**
 * Durable analysis jobs: one model for seed 003's "task" (async /analyze) and seed 004's "job" (batches, progress).
 * A job holds what to analyse, which tasks to run, the settings it was submitted with, and its outcome.
 */
import { AppError } from './errors.js';

/** What a job analyses. */
export const JOB_KINDS = ['image', 'batch', 'video'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** Analyses a job can run on each item. */
export const JOB_TASKS = ['detect', 'blur', 'faces', 'bibs'] as const;
export type JobTask = (typeof JOB_TASKS)[number];

/** Where a job is in its life. Only queued and running jobs can change. */
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/**
 * One thing to analyse: a stored medium, a URL fetched when the job runs, or a video still being uploaded (its
 * analysis runs as the bytes arrive; the input becomes the stored medium once the upload is complete).
 */
export type JobInput =
  | { readonly mediaId: string; readonly name?: string }
  | { readonly url: string }
  /** `partial`: the file it is being written to, which a worker on another process follows (scale-out). */
  | { readonly uploading: string; readonly partial?: string };

/** Per-job choices beyond the settings: the face collection to search, and whether faces are only detected. */
export interface JobOptions {
  readonly collection?: string;
  readonly faceOperation?: 'detect' | 'search';
}

/** Seed 003's status names. */
export type TaskState = 'PENDING' | 'PROCESSING' | 'SUCCESS' | 'FAILED';

/** A job's status as every view of the API shows it: seed 003's names, and CANCELLED. */
export type JobState = TaskState | 'CANCELLED';

/** The API's name of a job status (`/results`, seed 003's view, knows four: see taskState). */
export function jobState(status: JobStatus): JobState {
  return status === 'cancelled' ? 'CANCELLED' : taskState(status);
}

/** The job status an API name stands for. */
export function statusOfState(state: JobState): JobStatus {
  const of: Record<JobState, JobStatus> = { PENDING: 'queued', PROCESSING: 'running', SUCCESS: 'succeeded', FAILED: 'failed', CANCELLED: 'cancelled' };
  return of[state];
}

/** True for the states a job ends in. */
export function isFinalState(state: unknown): boolean {
  return state === 'SUCCESS' || state === 'FAILED' || state === 'CANCELLED';
}

/** Maps a job status to seed 003's task state (a cancelled job has FAILED, with "cancelled" as its message). */
export function taskState(status: JobStatus): TaskState {
  switch (status) {
    case 'queued':
      return 'PENDING';
    case 'running':
      return 'PROCESSING';
    case 'succeeded':
      return 'SUCCESS';
    default:
      return 'FAILED';
  }
}

/** True once a job can no longer change. */
export function isFinished(status: JobStatus): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'cancelled';
}

/** Parses a task list (array or comma-separated); VALIDATION_ERROR naming unknown tasks. Defaults to detect. */
export function parseTasks(input: readonly string[] | string | undefined): JobTask[] {
  const list = (typeof input === 'string' ? input.split(',') : (input ?? [])).map((t) => t.trim().toLowerCase()).filter(Boolean);
  if (list.length === 0) return ['detect'];
  const unknown = list.filter((t) => !(JOB_TASKS as readonly string[]).includes(t));
  if (unknown.length) throw new AppError('VALIDATION_ERROR', `unknown task${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}; known: ${JOB_TASKS.join(', ')}`);
  return [...new Set(list)] as JobTask[];
}

/** A job event as SSE streams it: `seq` is its id for Last-Event-ID. */
export interface JobEvent {
  readonly seq: number;
  readonly type: 'progress' | 'frame' | 'track' | 'status' | 'item';
  readonly data: Record<string, unknown>;
}
