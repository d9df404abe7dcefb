/** Schemas of jobs: seed 003's analyze/results and seed 004's jobs with progress. */
import Type, { type Static } from 'typebox';
import type { JobFrame, JobRecord } from '../../app/ports.js';
import { isFinished, jobState, taskState, type JobInput } from '../../domain/job.js';
import { BibResponse } from './bibs.js';
import { BlurResult } from './blur.js';
import { Paging, named } from './common.js';
import { BoxSchema, DetectResponse } from './detect.js';
import { FaceDetectResponse, FaceSearchResponse } from './faces.js';
import { MediaId } from './media.js';

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

export const AnalyzeAccepted = named(
  'AnalyzeAccepted',
  Type.Object({
    task_id: JobId,
    status_endpoint: Type.String({ description: 'The task view (/results): GET it for the state and result' }),
    events_endpoint: Type.String({ description: 'Server-sent events of the job' }),
    poll_url: Type.String({ description: "The job's own view (progress, items)" }),
    media_id: Type.Optional(Type.String()),
  }),
);

/** Fields of seed 004's face batch. */
export const FaceBatchFields = Type.Object(
  {
    operation: Type.Optional(FaceOperation),
    collection: Type.Optional(Collection),
    callback_url: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const BatchAccepted = named('BatchAccepted', Type.Object({
  job_id: JobId,
  poll_url: Type.String({ description: 'Where to poll the job; the same as status_url' }),
  status_url: Type.String(),
  events_url: Type.String(),
  total: Type.Integer(),
  media_ids: Type.Array(Type.String()),
}));

/** The tasks of one image of a job (or of an image job), each with the answer its endpoint gives. */
export const ItemResult = named(
  'ItemResult',
  Type.Object(
    {
      index: Type.Optional(Type.Integer({ description: "The image's place in the batch (in item events)" })),
      media_id: Type.Optional(MediaId),
      name: Type.Optional(Type.String()),
      url: Type.Optional(Type.String({ description: 'The image_url the item was fetched from' })),
      detect: Type.Optional(DetectResponse),
      blur: Type.Optional(BlurResult),
      faces: Type.Optional(Type.Union([FaceSearchResponse, FaceDetectResponse])),
      bibs: Type.Optional(BibResponse),
      error: Type.Optional(Type.String({ description: "Why this image was not analysed (the batch goes on)" })),
      code: Type.Optional(Type.String({ description: 'The error code, as in the error envelope' })),
    },
    { additionalProperties: true },
  ),
);

/** The result of an image or batch job. */
export const BatchResult = named(
  'BatchResult',
  Type.Object({ items: Type.Array(Type.Union([ItemResult, Type.Null()])), succeeded: Type.Integer(), failed: Type.Integer() }, { additionalProperties: true }),
);

/** A tracked object of a video, with its path (at most 100 points, evenly spaced; every point is in the frames). */
export const Track = named(
  'Track',
  Type.Object(
    {
      track_id: Type.Integer(),
      label: Type.String(),
      class_id: Type.Integer(),
      first_time: Type.Number(),
      last_time: Type.Number(),
      first_frame: Type.Integer(),
      last_frame: Type.Integer(),
      hits: Type.Integer(),
      mean_confidence: Type.Number(),
      best_frame: Type.Optional(Type.Object({ index: Type.Integer(), timestamp: Type.Number(), confidence: Type.Number(), box: BoxSchema })),
      path: Type.Optional(Type.Array(Type.Object({ index: Type.Integer(), timestamp: Type.Number(), box: BoxSchema }))),
    },
    { additionalProperties: true },
  ),
);

const Loose = (description: string) => Type.Array(Type.Record(Type.String(), Type.Unknown()), { description });

/** The result of a video job: the summary; its frames are served by frames_url. */
export const VideoResult = named(
  'VideoResult',
  Type.Object(
    {
      media_id: MediaId,
      video: Type.Object({
        width: Type.Integer(),
        height: Type.Integer(),
        fps: Type.Number(),
        duration_seconds: Type.Union([Type.Number(), Type.Null()]),
        frame_count: Type.Union([Type.Integer(), Type.Null()]),
        codec: Type.String(),
      }),
      sampling: Type.Object({ every_nth_frame: Type.Integer(), min_seconds: Type.Number(), analysed_frames: Type.Integer() }),
      model: Type.String(),
      tracks: Type.Array(Track),
      face_tracks: Type.Optional(Loose('Each face track: its best face, embedded once, with the person it matched')),
      bib_tracks: Type.Optional(Loose('Each person track that carried a readable bib, with the number it settled on')),
      bibs: Type.Optional(Loose('Each bib number read in the video, with where')),
      blur: Type.Optional(Type.Object({ threshold: Type.Number(), blurry_frames: Type.Integer(), sharpest_frame: Type.Unknown() }, { additionalProperties: true })),
      frames_analysed: Type.Integer(),
      frames_url: Type.String({ description: 'The analysed frames, paged and by time range' }),
      timings: Type.Record(Type.String(), Type.Number()),
    },
    { additionalProperties: true },
  ),
);

/** A job's result: a batch's (image and batch jobs) or a video's; null until it succeeds. */
const JobResult = Type.Union([BatchResult, VideoResult, Type.Null()]);

const JobStateSchema = Type.Union([Type.Literal('PENDING'), Type.Literal('PROCESSING'), Type.Literal('SUCCESS'), Type.Literal('FAILED'), Type.Literal('CANCELLED')], {
  description: 'PENDING (queued), PROCESSING, SUCCESS, FAILED or CANCELLED — the same names in every view, event and webhook',
});

export const TaskResult = named(
  'TaskResult',
  Type.Object({
    task_id: JobId,
    status: Type.Union([Type.Literal('PENDING'), Type.Literal('PROCESSING'), Type.Literal('SUCCESS'), Type.Literal('FAILED')], {
      description: "Four states here: a cancelled job is FAILED, with error_message 'cancelled'",
    }),
    result: JobResult,
    error_message: Type.Union([Type.String(), Type.Null()]),
  }),
);

/** One thing a job analyses. */
const JobInputView = Type.Object(
  {
    media_id: Type.Optional(MediaId),
    name: Type.Optional(Type.String()),
    url: Type.Optional(Type.String()),
    uploading: Type.Optional(Type.String({ description: 'A video still being uploaded (analysed as it arrives)' })),
  },
  { description: 'A stored medium, a URL fetched when the job runs, or an upload still arriving' },
);

export const Job = named(
  'Job',
  Type.Object({
    job_id: JobId,
    kind: Type.Union([Type.Literal('image'), Type.Literal('batch'), Type.Literal('video')]),
    status: JobStateSchema,
    progress: Type.Object({
      done: Type.Integer({ description: 'Items (image, batch) or analysed frames (video) done' }),
      total: Type.Union([Type.Integer(), Type.Null()], { description: 'How many there will be; null while unknown (a video still arriving)' }),
      percent: Type.Union([Type.Number(), Type.Null()]),
    }),
    tasks: Type.Array(Type.String()),
    collection: Type.Optional(Type.String({ description: 'The face collection the faces task searches (when asked for)' })),
    operation: Type.Optional(Type.Union([Type.Literal('detect'), Type.Literal('search')], { description: 'What the faces task does (when asked for)' })),
    inputs: Type.Array(JobInputView),
    items: Type.Optional(Type.Array(Type.Union([ItemResult, Type.Null()]))),
    result: JobResult,
    error: Type.Union([Type.String(), Type.Null()]),
    attempts: Type.Integer({ description: 'How many times a worker started it' }),
    max_attempts: Type.Integer(),
    callback_url: Type.Union([Type.String(), Type.Null()]),
    poll_url: Type.String(),
    events_url: Type.String(),
    result_url: Type.String({ description: 'The task view (/results) of the same job' }),
    frames_url: Type.Optional(Type.String({ description: "A video's analysed frames" })),
    created_at: Type.String({ format: 'date-time' }),
    started_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    finished_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  }),
);

export const JobList = named('JobList', Type.Object({ items: Type.Array(Job), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() }));

export const JobListQuery = Type.Object(
  {
    ...Paging,
    status: Type.Optional(JobStateSchema),
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
  const { done } = j.progress;
  // A video's total is 0 until its frame count is known (still arriving): unknown, not "all done".
  const total = j.kind === 'video' && j.progress.total === 0 && !isFinished(j.status) ? null : j.progress.total;
  const base = `/api/v1/jobs/${j.id}`;
  return {
    job_id: j.id,
    kind: j.kind,
    status: jobState(j.status),
    progress: { done, total, percent: total === null ? null : total > 0 ? Math.round((done / total) * 1000) / 10 : j.status === 'succeeded' ? 100 : 0 },
    tasks: j.tasks,
    ...(j.options.collection !== undefined ? { collection: j.options.collection } : {}),
    ...(j.options.faceOperation !== undefined ? { operation: j.options.faceOperation } : {}),
    inputs: j.inputs.map(inputView),
    ...(withItems && j.kind !== 'video' ? { items: j.items } : {}),
    result: withItems ? (resultOf(j) as Static<typeof Job>['result']) : null,
    error: j.error,
    attempts: j.attempts,
    max_attempts: j.maxAttempts,
    callback_url: j.callbackUrl,
    poll_url: base,
    events_url: `${base}/events`,
    result_url: `/api/v1/results/${j.id}`,
    ...(j.kind === 'video' ? { frames_url: `${base}/frames` } : {}),
    created_at: j.createdAt.toISOString(),
    started_at: j.startedAt?.toISOString() ?? null,
    finished_at: j.finishedAt?.toISOString() ?? null,
  };
}

/** A job's result, or null: failed jobs of earlier versions stored an empty object. */
function resultOf(j: JobRecord): unknown {
  const r = j.result as Record<string, unknown> | null | undefined;
  return r && Object.keys(r).length > 0 ? r : null;
}

/** A job input in the API's words (snake_case; the partial file a worker follows stays private). */
function inputView(i: JobInput): Static<typeof JobInputView> {
  if ('mediaId' in i) return { media_id: i.mediaId, ...(i.name !== undefined ? { name: i.name } : {}) };
  if ('url' in i) return { url: i.url };
  return { uploading: i.uploading };
}

/** Seed 003's result view. */
export function taskResultView(j: JobRecord): Static<typeof TaskResult> {
  return { task_id: j.id, status: taskState(j.status), result: j.status === 'succeeded' ? (j.result as Static<typeof TaskResult>['result']) : null, error_message: j.error };
}
