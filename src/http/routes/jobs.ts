import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { MultipartFile } from '@fastify/multipart';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Type, { type Static, type TSchema } from 'typebox';
import { commitUpload, discardUpload, stageUpload, type IngestMediaDeps, type StagedUpload } from '../../app/ingest-media.js';
import { deleteMedia, getMedia } from '../../app/media-queries.js';
import type { JobRecord, LiveUpload, MediaRecord } from '../../app/ports.js';
import { restartJob, submitJob, type SubmitJobDeps } from '../../app/submit-job.js';
import { emitJobEvent } from '../../app/job-events.js';
import { teeBytes } from '../../app/tee-bytes.js';
import { applySettings, checkSettingsAgree, parseAiSettingsPatch } from '../../domain/ai-settings.js';
import { sanitizeFilename } from '../../domain/media-kind.js';
import { AppError, isAppError } from '../../domain/errors.js';
import { isFinalState, isFinished, parseTasks, statusOfState, type JobEvent, type JobInput, type JobOptions, type JobTask } from '../../domain/job.js';
import { fileBytes, multipartRoute, parseFields, readForm, readRawForm } from '../plugins/multipart-form.js';
import { errorResponses, IdempotencyHeaders, secured } from '../schemas/common.js';
import { AnalyzeAccepted, AnalyzeFields, AnalyzeJson, BatchAccepted, FaceBatchFields, Job, JobFramesPage, JobFramesQuery, JobId, JobList, JobListQuery, TaskResult, jobFramesView, jobView, taskResultView } from '../schemas/jobs.js';
import { DetectFields } from '../schemas/detect.js';
import { answerOnce, idempotencyKeyOf } from '../idempotency.js';
import type { Answer, IdempotencyDeps } from '../../app/idempotency.js';

/**
 * How uploads of streamable videos are analysed while they arrive: by this process, the bytes teed to its decoder
 * (embedded), or by a worker that follows the growing file on the shared volume (scale-out).
 */
export type LiveUploads = { readonly kind: 'local'; run(job: JobRecord, live: LiveUpload): void } | { readonly kind: 'shared' };

/** What the job routes need. */
export interface JobRouteDeps extends SubmitJobDeps, IngestMediaDeps, IdempotencyDeps {
  readonly maxUploadBytes: number;
  readonly maxBatchFiles: number;
  /** Checks a user-supplied URL's syntax before it is queued (the fetch itself checks where it leads). */
  readonly checkUrl: (url: string) => void;
  readonly onJobFinished: (job: JobRecord) => Promise<void>;
  /** How uploads of streamable videos are analysed while they arrive (absent: once stored). */
  readonly liveUploads?: LiveUploads;
}

const Params = Type.Object({ id: JobId });
// Seed 003 types task_id as a string and answers 404 for any task that does not exist, a malformed id included.
const TaskParams = Type.Object({ task_id: Type.String({ minLength: 1, maxLength: 200, description: 'The task_id /analyze answered' }) });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEARTBEAT_MS = 15_000;

/** The event stream's format, for the OpenAPI document. */
const SSE_DESCRIPTION = [
  'Each event is `id: <n>` (a number that grows with every event of the server, not per job), `event: <type>`, `data: <JSON>`; a comment line `: keep-alive` comes every 15 s. Events stored before the',
  'connection are replayed first, so a client that reconnects with Last-Event-ID misses nothing. Types:',
  '`progress` ({done, total, bytes_received?}: total is null while a streamed video\'s length is unknown),',
  '`item` (one image of a batch finished: ItemResult), `frame` (one analysed video frame: index, timestamp, detections, faces, bibs),',
  '`track` (a video track started, moved or ended), `status` ({status, error?}: PROCESSING, then SUCCESS, FAILED or CANCELLED, which ends the stream).',
].join(' ');
/**
 * Containers ffmpeg can decode from a pipe as they arrive. MP4/MOV usually keep their index at the end, so they
 * are analysed from the stored file once the upload is complete.
 */
const STREAMABLE = /\.(avi|mkv|webm|ts|mts|m2ts|mpg|mpeg|flv)$/i;
/** How far the decoder's copy of a live upload may fall behind the disk's before the upload waits for it. */
const LIVE_LAG_BYTES = 16 * 1024 * 1024;
const BatchFields = Type.Object({ callback_url: Type.Optional(Type.String()) }, { additionalProperties: false });
/** `/detect/batch` takes the fields of `/detect` that shape the answer (not `store` or `tiling`: batches store). */
const DetectBatchFields = Type.Object(
  { callback_url: Type.Optional(Type.String()), model: DetectFields.properties.model, classes: DetectFields.properties.classes, threshold: DetectFields.properties.threshold, max_detections: DetectFields.properties.max_detections },
  { additionalProperties: false },
);

/** A detect batch's fields as the AI-settings overrides its job is snapshotted with. */
function detectOverrides(fields: Static<typeof DetectBatchFields>): Record<string, unknown> | undefined {
  const o: Record<string, unknown> = {};
  if (fields.model !== undefined) o.detection_model = fields.model;
  if (fields.threshold !== undefined) o.probability_threshold = fields.threshold;
  if (fields.max_detections !== undefined) o.max_detections = fields.max_detections;
  if (fields.classes !== undefined) o.classes = fields.classes.split(',').map((c) => c.trim()).filter(Boolean);
  return Object.keys(o).length > 0 ? o : undefined;
}

type AnalyzeForm = Static<typeof AnalyzeFields>;

/** What a job is asked to do, from a request's fields. */
interface AnalyzeRequest {
  readonly tasks: JobTask[];
  readonly callbackUrl: string | undefined;
  readonly options: JobOptions;
}

/** A video analysed while its upload is still arriving. */
interface LiveAnalysis {
  /** The upload, staged once it has fully arrived. */
  readonly staged: Promise<StagedUpload>;
  /** Commits the upload as the job's input, with the form's final fields; resolves with the job. */
  finish(asked: AnalyzeRequest): Promise<JobRecord>;
  /** The request was refused: stops the analysis and removes the job. */
  abandon(reason: unknown): Promise<void>;
}

/** True when two requests ask for the same job. */
function sameJob(a: AnalyzeRequest, b: AnalyzeRequest): boolean {
  return (
    a.tasks.join() === b.tasks.join() &&
    a.callbackUrl === b.callbackUrl &&
    a.options.collection === b.options.collection &&
    a.options.faceOperation === b.options.faceOperation
  );
}

/** Seed 003's /analyze and /results, seed 004's /jobs and batch endpoints, and the SSE event stream. */
export const jobRoutes: FastifyPluginAsyncTypebox<JobRouteDeps> = async (app, deps) => {
  const accepted = (job: JobRecord, mediaId?: string): Static<typeof AnalyzeAccepted> => ({
    task_id: job.id,
    status_endpoint: `/api/v1/results/${job.id}`,
    events_endpoint: `/api/v1/jobs/${job.id}/events`,
    poll_url: `/api/v1/jobs/${job.id}`,
    ...(mediaId ? { media_id: mediaId } : {}),
  });
  const kindOf = (m: MediaRecord): 'image' | 'video' => m.kind;

  app.post(
    '/analyze',
    {
      ...multipartRoute,
      schema: {
        tags: ['jobs'],
        summary: 'Queue an analysis: JSON {video_url | image_url | media_id, tasks, callback_url, settings}, or a multipart upload (file, tasks, callback_url)',
        consumes: ['application/json', 'multipart/form-data'],
        body: AnalyzeJson,
        headers: IdempotencyHeaders,
        security: secured,
        response: { 202: AnalyzeAccepted, ...errorResponses(400, 401, 404, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const ownerId = request.principal.ownerId;
      if (request.isMultipart()) return analyzeUpload(request, reply);
      // JSON bodies are checked here (the route's validator passes multipart streams through): unknown fields → 422.
      const body = parseFields<Static<typeof AnalyzeJson>>(AnalyzeJson, request.body ?? {});
      const given = [body.video_url, body.image_url, body.media_id].filter((v) => v !== undefined).length;
      if (given !== 1) throw new AppError('VALIDATION_ERROR', 'give exactly one of video_url, image_url or media_id (or upload a file as multipart)');
      const asked = analyzeRequest({ ...body, tasks: body.tasks === undefined ? undefined : [body.tasks].flat().join(',') });
      // Everything in the body is checked before anything is looked up: a bad setting is a 422 whatever the input.
      if (body.settings !== undefined) checkSettingsAgree(applySettings(deps.defaults, parseAiSettingsPatch(body.settings)));
      let kind: 'image' | 'video';
      let input: JobInput;
      if (body.media_id !== undefined) {
        const media = await getMedia(deps.media, ownerId, body.media_id);
        kind = kindOf(media);
        input = { mediaId: media.id, name: media.name };
      } else {
        const url = (body.video_url ?? body.image_url) as string;
        deps.checkUrl(url);
        kind = body.video_url !== undefined ? 'video' : 'image';
        input = { url };
      }
      return answerOnce(deps, request, reply, body, async () => {
        const job = await submitJob(deps, { ownerId, kind, inputs: [input], ...asked, settings: body.settings });
        return { status: 202, body: accepted(job, 'mediaId' in input ? input.mediaId : undefined), location: `/api/v1/jobs/${job.id}` };
      });
    },
  );

  app.get(
    '/results/:task_id',
    { schema: { tags: ['jobs'], summary: "A task's state and result (PENDING, PROCESSING, SUCCESS, FAILED)", params: TaskParams, security: secured, response: { 200: TaskResult, ...errorResponses(401, 404) } } },
    async (request) => {
      const id = request.params.task_id;
      if (!UUID.test(id)) throw new AppError('NOT_FOUND', `task ${id} not found`);
      return taskResultView(await findJob(request.principal.ownerId, id));
    },
  );

  app.get(
    '/jobs',
    { schema: { tags: ['jobs'], summary: 'Your jobs, newest first', querystring: JobListQuery, security: secured, response: { 200: JobList, ...errorResponses(401, 422) } } },
    async (request) => {
      const q = request.query;
      const page = await deps.jobs.list(request.principal.ownerId, { limit: q.limit, offset: q.offset, ...(q.status ? { status: statusOfState(q.status) } : {}) });
      return { items: page.items.map((j) => jobView(j, false)), total: page.total, limit: q.limit, offset: q.offset };
    },
  );

  app.get(
    '/jobs/:id',
    { schema: { tags: ['jobs'], summary: 'A job with its progress and results', params: Params, security: secured, response: { 200: Job, ...errorResponses(401, 404, 422) } } },
    async (request) => jobView(await findJob(request.principal.ownerId, request.params.id)),
  );

  app.delete(
    '/jobs/:id',
    { schema: { tags: ['jobs'], summary: 'Cancel a queued or running job', params: Params, security: secured, response: { 200: Job, ...errorResponses(401, 404, 409, 422) } } },
    async (request) => {
      const ownerId = request.principal.ownerId;
      const before = await findJob(ownerId, request.params.id);
      if (isFinished(before.status)) throw new AppError('CONFLICT', `job ${before.id} already ended (${before.status})`);
      const job = await deps.jobs.cancel(ownerId, before.id, deps.clock.now());
      if (!job) throw new AppError('NOT_FOUND', `job ${before.id} not found`);
      await deps.queue.interrupt(job.id);
      await emitJobEvent(deps, job.id, 'status', { status: 'CANCELLED', error_message: 'cancelled' });
      await deps.onJobFinished(job);
      return jobView(job);
    },
  );

  app.get(
    '/jobs/:id/events',
    {
      schema: {
        tags: ['jobs'],
        summary: "A job's events as they happen (server-sent events); resumes after Last-Event-ID",
        description: SSE_DESCRIPTION,
        params: Params,
        headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ description: 'The id of the last event received: the stream resumes after it' })) }),
        security: secured,
        response: { 200: { description: 'An event stream that ends after the final status event', content: { 'text/event-stream': { schema: Type.String({ description: SSE_DESCRIPTION }) } } }, ...errorResponses(401, 404, 422) },
      },
    },
    async (request, reply) => {
      const job = await findJob(request.principal.ownerId, request.params.id);
      const header = request.headers['last-event-id'];
      const after = Number(Array.isArray(header) ? header[0] : (header ?? 0)) || 0;
      await streamEvents(reply, job, after);
    },
  );

  app.get(
    '/jobs/:id/frames',
    {
      schema: {
        tags: ['jobs'],
        summary: "A video job's analysed frames in index order, paged (limit, and after = the previous page's next_after) and by time range in seconds (from, to); a running job's frames so far",
        params: Params,
        querystring: JobFramesQuery,
        security: secured,
        response: { 200: JobFramesPage, ...errorResponses(401, 404, 422) },
      },
    },
    async (request) => {
      const q = request.query;
      if (q.from !== undefined && q.to !== undefined && q.from > q.to) {
        throw new AppError('VALIDATION_ERROR', `from (${q.from}) is after to (${q.to})`, [{ field: 'from', problem: 'after to' }]);
      }
      const job = await findJob(request.principal.ownerId, request.params.id);
      // One more than the page: tells whether a next page exists without a count or an empty last page.
      const rows = await deps.jobs.frames(job.id, { ...(q.after !== undefined ? { after: q.after } : {}), ...(q.from !== undefined ? { from: q.from } : {}), ...(q.to !== undefined ? { to: q.to } : {}), limit: q.limit + 1 });
      return jobFramesView(job.id, q, rows);
    },
  );

  app.post(
    '/faces/search/batch',
    {
      ...multipartRoute,
      schema: {
        tags: ['jobs', 'faces'],
        summary: 'Face detection or search (operation=detect|search) on up to 100 images (repeated multipart field files) as a job',
        consumes: ['multipart/form-data'],
        body: Type.Object({ files: Type.Array(Type.String({ format: 'binary' })), ...FaceBatchFields.properties }),
        headers: IdempotencyHeaders,
        security: secured,
        response: { 202: BatchAccepted, ...errorResponses(400, 401, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      return submitBatch(request, reply, 'faces', FaceBatchFields);
    },
  );

  for (const [path, task, fields, summary] of [
    ['/blur/detect/batch', 'blur', BatchFields, 'Blur detection on up to 100 images (repeated multipart field files) as a job'],
    ['/detect/batch', 'detect', DetectBatchFields, 'Object detection on up to 100 images (repeated multipart field files) as a job; model, classes, threshold and max_detections as for /detect'],
    ['/bibs/recognize/batch', 'bibs', BatchFields, 'Race-bib recognition on up to 100 images (repeated multipart field files) as a job; bibs and faces are stored for bib search'],
  ] as const) {
    app.post(
      path,
      {
        ...multipartRoute,
        schema: {
          tags: ['jobs', task],
          summary,
          consumes: ['multipart/form-data'],
          body: Type.Object({ files: Type.Array(Type.String({ format: 'binary' })), ...fields.properties }),
          headers: IdempotencyHeaders,
          security: secured,
          response: { 202: BatchAccepted, ...errorResponses(400, 401, 413, 415, 422) },
        },
      },
      async (request, reply) => submitBatch(request, reply, task, fields),
    );
  }

  /**
   * `/analyze` with an uploaded file. The file is staged while the form is read and committed only once every
   * field is valid, so a refused request leaves no record and no file. A video in a container ffmpeg can read from a
   * pipe is analysed as it arrives (see analyzeLive); anything else once stored — and always when the request has an
   * Idempotency-Key, since a replay is known only once the whole file has been read and must not start any work.
   */
  async function analyzeUpload(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const ownerId = request.principal.ownerId;
    const keyed = idempotencyKeyOf(request) !== undefined;
    let staged: StagedUpload | undefined;
    let live: LiveAnalysis | undefined;
    let raw: Record<string, string>;
    try {
      raw = await readRawForm(request, {
        fields: AnalyzeFields,
        maxFileBytes: deps.maxUploadBytes,
        fileFields: ['file'],
        onFile: async (part, early) => {
          if (!keyed && deps.liveUploads && STREAMABLE.test(sanitizeFilename(part.filename))) {
            live = await analyzeLive(ownerId, part, analyzeRequest(parseFields<AnalyzeForm>(AnalyzeFields, { ...early })), deps.liveUploads);
            staged = await live.staged;
          } else {
            staged = await stageUpload(deps, { filename: part.filename, content: fileBytes(part) });
          }
        },
      });
      if (!staged) throw new AppError('VALIDATION_ERROR', "no file: send the media in the multipart field 'file'", [{ field: 'file', problem: 'missing' }]);
      const asked = analyzeRequest(parseFields<AnalyzeForm>(AnalyzeFields, raw));
      if (live) {
        const job = await live.finish(asked);
        return reply.status(202).header('location', `/api/v1/jobs/${job.id}`).send(accepted(job, job.inputs[0] && 'mediaId' in job.inputs[0] ? job.inputs[0].mediaId : undefined));
      }
      const upload = staged;
      const sent = await answerOnce(deps, request, reply, { fields: raw, file: upload.id }, async () => {
        staged = undefined;
        const { record, created } = await commitUpload(deps, ownerId, upload);
        try {
          const job = await submitJob(deps, { ownerId, kind: record.kind, inputs: [{ mediaId: record.id, name: record.name }], ...asked });
          return { status: 202, body: accepted(job, record.id), location: `/api/v1/jobs/${job.id}` };
        } catch (err) {
          if (created) await deleteMedia(deps, ownerId, record.id).catch(() => undefined);
          throw err;
        }
      }, async () => {
        // A replayed answer: this copy of the file is not needed.
        if (staged) await discardUpload(deps, staged);
        staged = undefined;
      });
      return sent;
    } catch (err) {
      await live?.abandon(err);
      if (staged) await discardUpload(deps, staged);
      throw err;
    }
  }

  /**
   * A video upload analysed as it arrives: the job is created (claimed by this process) when the file starts, with
   * the fields sent before the file, and the bytes go both to a staged file and to the decoder. When the form ends,
   * `finish` commits the file and makes it the job's input; fields sent after the file that change the job (tasks,
   * callback_url, collection, operation) are honoured by restarting the job on the stored file. `abandon` removes the
   * job and stops its analysis when the request is refused.
   */
  async function analyzeLive(ownerId: string, part: MultipartFile, early: AnalyzeRequest, mode: LiveUploads): Promise<LiveAnalysis> {
    const name = sanitizeFilename(part.filename);
    let staged: Promise<StagedUpload>;
    let job: JobRecord;
    let settle = { resolve: (_m: MediaRecord): void => undefined, reject: (_e: unknown): void => undefined };
    if (mode.kind === 'local') {
      // This process runs it: claimed at once, the same bytes go to disk and to the decoder.
      job = await submitJob(deps, { ownerId, kind: 'video', inputs: [{ uploading: name }], ...early, claim: true });
      const [toDisk, toDecoder] = teeBytes(fileBytes(part), LIVE_LAG_BYTES);
      const stored = new Promise<MediaRecord>((resolve, reject) => (settle = { resolve, reject }));
      stored.catch(() => undefined);
      mode.run(job, { bytes: toDecoder, stored });
      staged = stageUpload(deps, { filename: part.filename, content: toDisk });
    } else {
      // A worker runs it, following the partial file on the shared volume as it grows (see follow-upload.ts).
      const partial = deps.blobs.newPartialName();
      job = await submitJob(deps, { ownerId, kind: 'video', inputs: [{ uploading: name, partial }], ...early });
      staged = stageUpload(deps, { filename: part.filename, content: fileBytes(part), partialName: partial });
    }
    staged = staged.then((s) => {
      if (s.kind !== 'video') throw new AppError('UNSUPPORTED_MEDIA_TYPE', `${s.name} is not a video`);
      return s;
    });
    // The route awaits `staged` within its own error handling; this only keeps an early failure from going unhandled.
    staged.catch(() => undefined);
    return {
      staged,
      finish: async (asked) => {
        const upload = await staged;
        const { record, created } = await commitUpload(deps, ownerId, upload);
        try {
          const inputs: JobInput[] = [{ mediaId: record.id, name: record.name }];
          if (sameJob(early, asked)) {
            // The upload is complete once the job's input is the stored medium (a follower waits for exactly that).
            await deps.jobs.setInputs(job.id, inputs, deps.clock.now());
            settle.resolve(record);
            return { ...job, inputs };
          }
          // Fields after the file asked for another job than the one started: it runs again, from the stored file.
          settle.reject(new AppError('CONFLICT', 'the job was restarted with the fields sent after the file'));
          await deps.queue.interrupt(job.id);
          return await restartJob(deps, job.id, { inputs, tasks: asked.tasks, options: asked.options, callbackUrl: asked.callbackUrl ?? null });
        } catch (err) {
          if (created) await deleteMedia(deps, ownerId, record.id).catch(() => undefined);
          throw err;
        }
      },
      abandon: async (err) => {
        settle.reject(err);
        await deps.queue.interrupt(job.id);
        await deps.jobs.delete(job.id);
      },
    };
  }

  /**
   * Stages each uploaded image, then — once every field is valid — commits them and queues one batch job. A refused
   * file or field leaves none of the request's files or records behind.
   */
  async function submitBatch(request: FastifyRequest, reply: FastifyReply, task: JobTask, schema: TSchema): Promise<FastifyReply> {
    const ownerId = request.principal.ownerId;
    const staged: StagedUpload[] = [];
    const added: MediaRecord[] = [];
    try {
      const fields = await readForm<{ callback_url?: string; collection?: string; operation?: 'detect' | 'search' } & Static<typeof DetectBatchFields>>(request, {
        fields: schema,
        maxFileBytes: deps.maxUploadBytes,
        fileFields: ['files', 'file'],
        maxFiles: deps.maxBatchFiles,
        onFile: async (part) => {
          const index = staged.length;
          const which = `file ${index + 1} (${sanitizeFilename(part.filename)})`;
          let upload: StagedUpload;
          try {
            upload = await stageUpload(deps, { filename: part.filename, content: fileBytes(part) });
          } catch (err) {
            // Which file of the batch was refused, and why.
            if (isAppError(err) && err.statusCode < 500) throw new AppError(err.code, `${which}: ${err.message}`, [{ field: 'files', index, problem: err.message }], err.statusCode);
            throw err;
          }
          staged.push(upload);
          if (upload.kind !== 'image') throw new AppError('UNSUPPORTED_MEDIA_TYPE', `${which} is a video; batches take images`, [{ field: 'files', index, problem: 'not an image' }]);
        },
      });
      if (staged.length === 0) throw new AppError('VALIDATION_ERROR', "no files: send the images in the repeated multipart field 'files'", [{ field: 'files', problem: 'missing' }]);
      const asked = analyzeRequest(fields);
      const sent = await answerOnce(deps, request, reply, { fields, files: staged.map((s) => s.id) }, async (): Promise<Answer<Static<typeof BatchAccepted>>> => {
        const inputs: JobInput[] = [];
        while (staged.length > 0) {
          const { record, created } = await commitUpload(deps, ownerId, staged.shift() as StagedUpload);
          if (created) added.push(record);
          inputs.push({ mediaId: record.id, name: record.name });
        }
        const settings = task === 'detect' ? detectOverrides(fields) : undefined;
        const job = await submitJob(deps, { ownerId, kind: 'batch', inputs, ...asked, tasks: [task], ...(settings ? { settings } : {}) });
        const url = `/api/v1/jobs/${job.id}`;
        return { status: 202, location: url, body: { job_id: job.id, poll_url: url, status_url: url, events_url: `${url}/events`, total: inputs.length, media_ids: inputs.map((i) => ('mediaId' in i ? i.mediaId : '')) } };
      }, async () => {
        // A replayed answer: these copies of the files are not needed.
        while (staged.length > 0) await discardUpload(deps, staged.shift() as StagedUpload);
      });
      return sent;
    } catch (err) {
      for (const s of staged) await discardUpload(deps, s);
      for (const m of added) await deleteMedia(deps, ownerId, m.id).catch(() => undefined);
      throw err;
    }
  }

  /** A job request from the fields of an /analyze or batch form: URLs checked, tasks parsed (422 on a bad one). */
  function analyzeRequest(fields: { tasks?: string; callback_url?: string; collection?: string; operation?: 'detect' | 'search' }): AnalyzeRequest {
    if (fields.callback_url) deps.checkUrl(fields.callback_url);
    return { tasks: parseTasks(fields.tasks), callbackUrl: fields.callback_url, options: optionsOf(fields) };
  }

  /** The faces task's options from a request's `collection` and `operation`. */
  function optionsOf(fields: { collection?: string; operation?: 'detect' | 'search' }): JobOptions {
    return { ...(fields.collection ? { collection: fields.collection } : {}), ...(fields.operation ? { faceOperation: fields.operation } : {}) };
  }

  async function findJob(ownerId: string, id: string): Promise<JobRecord> {
    const job = await deps.jobs.find(ownerId, id);
    if (!job) throw new AppError('NOT_FOUND', `job ${id} not found`);
    return job;
  }

  /** Replays stored events after `after`, then follows live ones until the job's final status. */
  async function streamEvents(reply: FastifyReply, job: JobRecord, after: number): Promise<void> {
    let last = after;
    let ended = false;
    const pending: JobEvent[] = [];
    let replaying = true;
    // Subscribed (and the subscription confirmed) before replaying, so nothing published meanwhile is missed;
    // duplicates are dropped by seq. A bus that cannot subscribe (Redis down) answers 503 before the stream starts.
    let unsubscribe: () => void;
    try {
      unsubscribe = await deps.bus.subscribe(job.id, (e) => (replaying ? pending.push(e) : write(e)));
    } catch {
      const err = new AppError('SERVICE_UNAVAILABLE', 'live events are unavailable for a moment; retry shortly');
      err.retryAfterS = 2;
      throw err;
    }
    const res = reply.raw;
    const headers: Record<string, string> = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' };
    for (const [k, v] of Object.entries(reply.getHeaders())) if (typeof v === 'string') headers[k] = v;
    reply.hijack();
    res.writeHead(200, headers);
    const finish = (): void => {
      if (ended) return;
      ended = true;
      unsubscribe();
      clearInterval(beat);
      res.end();
    };
    function write(e: JobEvent): void {
      if (ended || e.seq <= last) return;
      last = e.seq;
      res.write(`id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`);
      if (e.type === 'status' && isFinalState(e.data.status)) finish();
    }
    const beat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    res.on('close', finish);
    for (const e of await deps.jobs.events(job.id, after)) write(e);
    replaying = false;
    for (const e of pending.sort((a, b) => a.seq - b.seq)) write(e);
    if (!ended && isFinished((await deps.jobs.get(job.id))?.status ?? 'failed')) {
      // Finished between the replay and now: its final event is stored; replay what is left and close.
      for (const e of await deps.jobs.events(job.id, last)) write(e);
      finish();
    }
  }
};
