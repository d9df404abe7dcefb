/**
 * Accepting a job: validated, snapshotted with the caller's effective settings (plus any overrides), stored as
 * queued, and only then acknowledged — so an accepted job survives any restart.
 */
import { randomUUID } from 'node:crypto';
import { applySettings, checkSettingsAgree, parseAiSettingsPatch } from '../domain/ai-settings.js';
import { AppError } from '../domain/errors.js';
import type { JobInput, JobKind, JobOptions, JobTask } from '../domain/job.js';
import { checkModels, effectiveSettings } from './ai-settings.js';
import { emitJobEvent, type JobEventDeps } from './job-events.js';
import type { AiSettingsRepository, JobQueue, JobRecord, ModelCatalog } from './ports.js';
import type { AiSettings } from '../domain/ai-settings.js';

/** Dependencies of job submission. */
export interface SubmitJobDeps extends JobEventDeps {
  readonly settings: AiSettingsRepository;
  readonly defaults: AiSettings;
  readonly queue: JobQueue;
  readonly maxAttempts: number;
  /** Checks that models named by a job's own settings exist (absent: checked when the job runs). */
  readonly models?: ModelCatalog;
  /** Told when a stored job could not be handed to the queue (it will be, later). */
  readonly onEnqueueFailed?: (job: JobRecord, err: unknown) => void;
}

/** What a client asks for. */
export interface JobRequest {
  readonly ownerId: string;
  readonly kind: JobKind;
  readonly inputs: JobInput[];
  readonly tasks: JobTask[];
  /** Settings for this job only, in any casing. */
  readonly settings?: unknown;
  readonly callbackUrl?: string | undefined;
  readonly options?: JobOptions;
  /** The caller runs the job itself at once (a live upload): stored as running, attempt 1, the queue not woken. */
  readonly claim?: boolean;
}

/** Stores a new queued job and wakes the runner. */
export async function submitJob(deps: SubmitJobDeps, request: JobRequest): Promise<JobRecord> {
  if (request.inputs.length === 0) throw new AppError('VALIDATION_ERROR', 'nothing to analyse');
  const overrides = request.settings === undefined ? {} : parseAiSettingsPatch(request.settings);
  if (deps.models) checkModels(deps.models, overrides);
  const settings = applySettings(await effectiveSettings(deps, request.ownerId), overrides);
  checkSettingsAgree(settings);
  const now = deps.clock.now();
  const job: JobRecord = {
    id: randomUUID(),
    ownerId: request.ownerId,
    kind: request.kind,
    inputs: request.inputs,
    tasks: request.tasks,
    settings,
    status: request.claim ? 'running' : 'queued',
    progress: { done: 0, total: request.kind === 'video' ? 0 : request.inputs.length },
    items: request.inputs.map(() => null),
    result: null,
    error: null,
    attempts: request.claim ? 1 : 0,
    maxAttempts: deps.maxAttempts,
    callbackUrl: request.callbackUrl ?? null,
    options: request.options ?? {},
    createdAt: now,
    updatedAt: now,
    startedAt: request.claim ? now : null,
    finishedAt: null,
  };
  await deps.jobs.insert(job);
  await emitJobEvent(deps, job.id, 'status', { status: 'PENDING' });
  if (!request.claim) await enqueue(deps, job);
  return job;
}

/**
 * Puts a job this process was running back in the queue with a new shape (an upload whose form ended with other
 * fields than it started with): its events so far are dropped and it is announced as PENDING again. The interrupted
 * run counts as an attempt, so that its number can never be taken by the next run while it may still be stopping.
 */
export async function restartJob(
  deps: SubmitJobDeps,
  id: string,
  change: Pick<JobRecord, 'inputs' | 'tasks' | 'options' | 'callbackUrl'>,
): Promise<JobRecord> {
  const job = await deps.jobs.restart(id, change, deps.clock.now());
  if (!job) throw new AppError('NOT_FOUND', `job ${id} not found`);
  await emitJobEvent(deps, id, 'status', { status: 'PENDING', restarted: 'with the fields sent after the file' });
  await enqueue(deps, job);
  return job;
}

/**
 * Hands a stored job to the queue. A queue that is down (Redis restarting) does not fail the request: the job is
 * stored as queued, and stored queued jobs are enqueued again until one runs.
 */
async function enqueue(deps: SubmitJobDeps, job: JobRecord): Promise<void> {
  try {
    await deps.queue.enqueue(job);
  } catch (err) {
    deps.onEnqueueFailed?.(job, err);
  }
}
