/** Schemas of jobs: seed 003's analyze/results and seed 004's jobs with progress. */
import Type, { type Static } from 'typebox';
import type { JobFrame, JobRecord } from '../../app/ports.js';
import { taskState } from '../../domain/job.js';
import { Paging } from './common.js';

export const JobId = Type.String({ format: 'uuid', description: 'Job (task) id' });

const Tasks = Type.Union([Type.Array(Type.String()), Type.String()], { description: 'Tasks to run: detect, blur, faces, bibs (default detect)' });
const Collection = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$', description: 'Face collection searched by the faces task (default "default")' });
const FaceOperation = Type.Union([Type.Literal('detect'), Type.Literal('search')], { description: 'faces task: detect faces only, or search the collection (default)' });

export const AnalyzeJson = Type.Object(
  {
    video_url: Type.Optional(Type.String({ description: 'A video to fetch and analyse' })),
    image_url: Type.Optional(Type.String({ description: 'An image to fetch and analyse' })),
    media_id: Type.Optional(Type.String({ pattern: '^V?[0-9a-f]{16}$', description: 'A stored medium to analyse (its content id)' })),
    tasks: Type.Optional(Tasks),
    callback_url: Type.Optional(Type.String({ description: 'Where to POST the signed result when the job ends' })),
    collection: Type.Optional(Collection),
    operation: Type.Optional(FaceOperation),
    settings: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'AI settings for this job only (any casing)' })),
  },
  { additionalProperties: false },
);

export const AnalyzeFields = Type.Object(
  { tasks: Type.Optional(Type.String()), callback_url: Type.Optional(Type.String()), collection: Type.Optional(Collection), operation: Type.Optional(FaceOperation) },
  { additionalProperties: false },
);

export const AnalyzeAccepted = Type.Object({
  task_id: JobId,
  status_endpoint: Type.String(),
  events_endpoint: Type.String(),
  media_id: Type.Optional(Type.String()),
});

/** Fields of seed 004's face batch. */
export const FaceBatchFields = Type.Object(
  {
    operation: Type.Optional(FaceOperation),
    collection: Type.Optional(Collection),
    callback_url: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const BatchAccepted = Type.Object({
  job_id: JobId,
  poll_url: Type.String({ description: 'Where to poll the job (seed 004); the same as status_url' }),
  status_url: Type.String(),
  events_url: Type.String(),
  total: Type.Integer(),
  media_ids: Type.Array(Type.String()),
});

export const TaskResult = Type.Object({
  task_id: JobId,
  status: Type.Union([Type.Literal('PENDING'), Type.Literal('PROCESSING'), Type.Literal('SUCCESS'), Type.Literal('FAILED')]),
  result: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  error_message: Type.Union([Type.String(), Type.Null()]),
});

export const Job = Type.Object({
  job_id: JobId,
  kind: Type.String(),
  status: Type.String({ description: 'queued, running, succeeded, failed or cancelled' }),
  state: Type.String({ description: 'PENDING, PROCESSING, SUCCESS or FAILED' }),
  progress: Type.Object({ done: Type.Integer(), total: Type.Integer(), percent: Type.Number() }),
  tasks: Type.Array(Type.String()),
  inputs: Type.Array(Type.Unknown()),
  items: Type.Optional(Type.Array(Type.Unknown())),
  result: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  attempts: Type.Integer(),
  callback_url: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  started_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  finished_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export const JobList = Type.Object({ items: Type.Array(Job), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() });

export const JobListQuery = Type.Object(
  {
    ...Paging,
    status: Type.Optional(Type.Union(['queued', 'running', 'succeeded', 'failed', 'cancelled'].map((s) => Type.Literal(s)))),
  },
  { additionalProperties: false },
);

/** Bounds of GET /jobs/{id}/frames: a page holds 1..1000 frames, 100 unless asked. */
export const FRAMES_LIMIT = { min: 1, max: 1000, default: 100 };
/** The largest frame index the `after` cursor accepts (the stored index is a 32-bit integer). */
const MAX_FRAME_INDEX = 2_147_483_647;
/** Times far beyond any video, bounded so that no client-chosen number is unbounded. */
const MAX_SECONDS = 1e9;

export const JobFramesQuery = Type.Object(
  {
    from: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_SECONDS, description: 'Only frames at or after this time, in seconds from the start of the video' })),
    to: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_SECONDS, description: 'Only frames at or before this time, in seconds' })),
    limit: Type.Integer({ minimum: FRAMES_LIMIT.min, maximum: FRAMES_LIMIT.max, default: FRAMES_LIMIT.default, description: 'Frames per page' }),
    after: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_FRAME_INDEX, description: 'Cursor: only frames with a larger index (the previous page\'s next_after)' })),
  },
  { additionalProperties: false },
);

/** One analysed frame, as the `frame` SSE event shows it. */
export const JobFrameView = Type.Object(
  {
    index: Type.Integer({ description: 'Frame index in the video (0-based, decode order)' }),
    timestamp: Type.Number({ description: 'Seconds from the start of the video' }),
    detections: Type.Array(Type.Unknown()),
    blur: Type.Optional(Type.Unknown()),
    faces: Type.Optional(Type.Array(Type.Unknown())),
    bibs: Type.Optional(Type.Array(Type.Unknown())),
  },
  { title: 'JobFrame', additionalProperties: true },
);

export const JobFramesPage = Type.Object(
  {
    job_id: JobId,
    items: Type.Array(JobFrameView),
    limit: Type.Integer(),
    next_after: Type.Union([Type.Integer(), Type.Null()], { description: 'The cursor of the next page (its `after`), null on the last page' }),
    next: Type.Union([Type.String(), Type.Null()], { description: 'The next page, with the same range and limit; null on the last page' }),
  },
  { title: 'JobFramesPage' },
);

/** A page of a job's frames: the items, and the cursor and link of the next page when one follows. */
export function jobFramesView(jobId: string, query: Static<typeof JobFramesQuery>, rows: readonly JobFrame[]): Static<typeof JobFramesPage> {
  const items = rows.slice(0, query.limit).map((f) => ({ index: f.index, timestamp: f.timestamp, ...f.data }) as Static<typeof JobFrameView>);
  const nextAfter = rows.length > query.limit ? (items.at(-1)?.index ?? null) : null;
  let next: string | null = null;
  if (nextAfter !== null) {
    const params = new URLSearchParams();
    if (query.from !== undefined) params.set('from', String(query.from));
    if (query.to !== undefined) params.set('to', String(query.to));
    params.set('limit', String(query.limit));
    params.set('after', String(nextAfter));
    next = `/api/v1/jobs/${jobId}/frames?${params.toString()}`;
  }
  return { job_id: jobId, items, limit: query.limit, next_after: nextAfter, next };
}

/** Seed 004's job view. Per-item results only when `withItems` (the list stays small). */
export function jobView(j: JobRecord, withItems = true): Static<typeof Job> {
  const { done, total } = j.progress;
  return {
    job_id: j.id,
    kind: j.kind,
    status: j.status,
    state: taskState(j.status),
    progress: { done, total, percent: total > 0 ? Math.round((done / total) * 1000) / 10 : j.status === 'succeeded' ? 100 : 0 },
    tasks: j.tasks,
    inputs: j.inputs,
    ...(withItems && j.kind !== 'video' ? { items: j.items } : {}),
    result: withItems ? j.result : null,
    error: j.error,
    attempts: j.attempts,
    callback_url: j.callbackUrl,
    created_at: j.createdAt.toISOString(),
    started_at: j.startedAt?.toISOString() ?? null,
    finished_at: j.finishedAt?.toISOString() ?? null,
  };
}

/** Seed 003's result view. */
export function taskResultView(j: JobRecord): Static<typeof TaskResult> {
  return { task_id: j.id, status: taskState(j.status), result: j.status === 'succeeded' ? j.result : null, error_message: j.error };
}
