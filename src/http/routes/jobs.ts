import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { MultipartFile } from '@fastify/multipart';
import type { FastifyReply } from 'fastify';
import Type, { type Static } from 'typebox';
import { ingestMedia, type IngestMediaDeps } from '../../app/ingest-media.js';
import { deleteMedia, getMedia } from '../../app/media-queries.js';
import type { JobRecord, LiveUpload, MediaRecord } from '../../app/ports.js';
import { submitJob, type SubmitJobDeps } from '../../app/submit-job.js';
import { teeBytes } from '../../app/tee-bytes.js';
import { sanitizeFilename } from '../../domain/media-kind.js';
import { AppError } from '../../domain/errors.js';
import { isFinished, parseTasks, type JobEvent, type JobInput, type JobOptions, type JobTask } from '../../domain/job.js';
import { fileBytes, multipartRoute, parseFields, readForm } from '../plugins/multipart-form.js';
import { errorResponses, secured } from '../schemas/common.js';
import { AnalyzeAccepted, AnalyzeFields, AnalyzeJson, BatchAccepted, FaceBatchFields, Job, JobId, JobList, JobListQuery, TaskResult, jobView, taskResultView } from '../schemas/jobs.js';

/** What the job routes need. */
export interface JobRouteDeps extends SubmitJobDeps, IngestMediaDeps {
  readonly maxUploadBytes: number;
  readonly maxBatchFiles: number;
  /** Checks a user-supplied URL's syntax before it is queued (the fetch itself checks where it leads). */
  readonly checkUrl: (url: string) => void;
  readonly onJobFinished: (job: JobRecord) => Promise<void>;
  /** Starts analysing a claimed video job from its upload stream (absent: videos are analysed once stored). */
  readonly runLive?: (job: JobRecord, live: LiveUpload) => void;
}

const Params = Type.Object({ id: JobId });
const TaskParams = Type.Object({ task_id: JobId });
const HEARTBEAT_MS = 15_000;
/**
 * Containers ffmpeg can decode from a pipe as they arrive. MP4/MOV usually keep their index at the end, so they
 * are analysed from the stored file once the upload is complete.
 */
const STREAMABLE = /\.(avi|mkv|webm|ts|mts|m2ts|mpg|mpeg|flv)$/i;
/** How far the decoder's copy of a live upload may fall behind the disk's before the upload waits for it. */
const LIVE_LAG_BYTES = 16 * 1024 * 1024;

/** Seed 003's /analyze and /results, seed 004's /jobs and batch endpoints, and the SSE event stream. */
export const jobRoutes: FastifyPluginAsyncTypebox<JobRouteDeps> = async (app, deps) => {
  const accepted = (job: JobRecord, mediaId?: string): Static<typeof AnalyzeAccepted> => ({
    task_id: job.id,
    status_endpoint: `/api/v1/results/${job.id}`,
    events_endpoint: `/api/v1/jobs/${job.id}/events`,
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
        security: secured,
        response: { 202: AnalyzeAccepted, ...errorResponses(400, 401, 404, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const ownerId = request.principal.ownerId;
      if (request.isMultipart()) {
        let media: MediaRecord | undefined;
        let liveJob: JobRecord | undefined;
        const fields = await readForm<Static<typeof AnalyzeFields>>(request, {
          fields: AnalyzeFields,
          maxFileBytes: deps.maxUploadBytes,
          onFile: async (part, early) => {
            if (part.fieldname !== 'file' || media) throw new AppError('VALIDATION_ERROR', `unexpected file field '${part.fieldname}'; send one file in the field 'file'`);
            if (deps.runLive && STREAMABLE.test(sanitizeFilename(part.filename))) {
              // Form fields sent before the file shape the job; the analysis starts with the first bytes.
              const early_ = parseFields<Static<typeof AnalyzeFields>>(AnalyzeFields, { ...early });
              if (early_.callback_url) deps.checkUrl(early_.callback_url);
              ({ media, job: liveJob } = await ingestLive(ownerId, part, parseTasks(early_.tasks), early_.callback_url, deps.runLive, optionsOf(early_)));
            } else {
              media = (await ingestMedia(deps, { ownerId, filename: part.filename, content: fileBytes(part) })).record;
            }
          },
        });
        if (!media) throw new AppError('VALIDATION_ERROR', "no file: send the media in the multipart field 'file'");
        if (liveJob) return reply.status(202).send(accepted(liveJob, media.id));
        const tasks = parseTasks(fields.tasks);
        if (fields.callback_url) deps.checkUrl(fields.callback_url);
        const job = await submitJob(deps, { ownerId, kind: kindOf(media), inputs: [{ mediaId: media.id, name: media.name }], tasks, callbackUrl: fields.callback_url, options: optionsOf(fields) });
        return reply.status(202).send(accepted(job, media.id));
      }
      // JSON bodies are checked here (the route's validator passes multipart streams through): unknown fields → 422.
      const body = parseFields<Static<typeof AnalyzeJson>>(AnalyzeJson, (request.body ?? {}) as Record<string, string>);
      const given = [body.video_url, body.image_url, body.media_id].filter((v) => v !== undefined).length;
      if (given !== 1) throw new AppError('VALIDATION_ERROR', 'give exactly one of video_url, image_url or media_id (or upload a file as multipart)');
      const tasks = parseTasks(body.tasks);
      if (body.callback_url) deps.checkUrl(body.callback_url);
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
      const job = await submitJob(deps, { ownerId, kind, inputs: [input], tasks, settings: body.settings, callbackUrl: body.callback_url, options: optionsOf(body) });
      return reply.status(202).send(accepted(job, 'mediaId' in input ? input.mediaId : undefined));
    },
  );

  app.get(
    '/results/:task_id',
    { schema: { tags: ['jobs'], summary: "A task's state and result (seed 003)", params: TaskParams, security: secured, response: { 200: TaskResult, ...errorResponses(401, 404, 422) } } },
    async (request) => taskResultView(await findJob(request.principal.ownerId, request.params.task_id)),
  );

  app.get(
    '/jobs',
    { schema: { tags: ['jobs'], summary: 'Your jobs, newest first', querystring: JobListQuery, security: secured, response: { 200: JobList, ...errorResponses(401, 422) } } },
    async (request) => {
      const q = request.query;
      const page = await deps.jobs.list(request.principal.ownerId, { limit: q.limit, offset: q.offset, ...(q.status ? { status: q.status } : {}) });
      return { items: page.items.map((j) => jobView(j, false)), total: page.total, limit: q.limit, offset: q.offset };
    },
  );

  app.get(
    '/jobs/:id',
    { schema: { tags: ['jobs'], summary: 'A job with its progress and results (seed 004)', params: Params, security: secured, response: { 200: Job, ...errorResponses(401, 404, 422) } } },
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
      deps.queue.interrupt(job.id);
      const event = await deps.jobs.appendEvent(job.id, 'status', { status: 'FAILED', error_message: 'cancelled' }, deps.clock.now());
      deps.bus.publish(job.id, event);
      await deps.onJobFinished(job);
      return jobView(job);
    },
  );

  app.get(
    '/jobs/:id/events',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Server-sent events: progress, item, frame, track, status (the last status carries SUCCESS or FAILED); resumes after Last-Event-ID',
        params: Params,
        security: secured,
        response: { 200: Type.Unsafe({ type: 'string', description: 'text/event-stream' }), ...errorResponses(401, 404, 422) },
      },
    },
    async (request, reply) => {
      const job = await findJob(request.principal.ownerId, request.params.id);
      const header = request.headers['last-event-id'];
      const after = Number(Array.isArray(header) ? header[0] : (header ?? 0)) || 0;
      await streamEvents(reply, job, after);
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
        security: secured,
        response: { 202: BatchAccepted, ...errorResponses(400, 401, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const job = await submitBatch(request.principal.ownerId, 'faces', (handler) =>
        readForm<Static<typeof FaceBatchFields>>(request, { fields: FaceBatchFields, maxFileBytes: deps.maxUploadBytes, onFile: handler }),
      );
      return reply.status(202).send(job);
    },
  );

  for (const [path, task, summary] of [
    ['/blur/detect/batch', 'blur', 'Blur detection on up to 100 images (repeated multipart field files) as a job'],
    ['/detect/batch', 'detect', 'Object detection on up to 100 images (repeated multipart field files) as a job'],
    ['/bibs/recognize/batch', 'bibs', 'Race-bib recognition on up to 100 images (repeated multipart field files) as a job; bibs and faces are stored for bib search'],
  ] as const) {
    app.post(
      path,
      {
        ...multipartRoute,
        schema: {
          tags: ['jobs', task],
          summary,
          consumes: ['multipart/form-data'],
          body: Type.Object({ files: Type.Array(Type.String({ format: 'binary' })), callback_url: Type.Optional(Type.String()) }),
          security: secured,
          response: { 202: BatchAccepted, ...errorResponses(400, 401, 413, 415, 422) },
        },
      },
      async (request, reply) => {
        const job = await submitBatch(request.principal.ownerId, task, (handler) =>
          readForm<{ callback_url?: string }>(request, { fields: Type.Object({ callback_url: Type.Optional(Type.String()) }, { additionalProperties: false }), maxFileBytes: deps.maxUploadBytes, onFile: handler }),
        );
        return reply.status(202).send(job);
      },
    );
  }

  /**
   * A video upload analysed as it arrives: the job is created (claimed by this process) when the file starts, the
   * bytes go both to disk and to the decoder, and the job's input becomes the stored medium when the upload ends.
   * If the upload is refused, the job fails with the reason and the error is the answer.
   */
  async function ingestLive(
    ownerId: string,
    part: MultipartFile,
    tasks: JobTask[],
    callbackUrl: string | undefined,
    runLive: (job: JobRecord, live: LiveUpload) => void,
    options: JobOptions,
  ): Promise<{ media: MediaRecord; job: JobRecord }> {
    const name = sanitizeFilename(part.filename);
    const job = await submitJob(deps, { ownerId, kind: 'video', inputs: [{ uploading: name }], tasks, callbackUrl, claim: true, options });
    const [toDisk, toDecoder] = teeBytes(fileBytes(part), LIVE_LAG_BYTES);
    let settle!: { resolve: (m: MediaRecord) => void; reject: (e: unknown) => void };
    const stored = new Promise<MediaRecord>((resolve, reject) => (settle = { resolve, reject }));
    stored.catch(() => undefined);
    runLive(job, { bytes: toDecoder, stored });
    try {
      const { record } = await ingestMedia(deps, { ownerId, filename: part.filename, content: toDisk });
      if (record.kind !== 'video') throw new AppError('UNSUPPORTED_MEDIA_TYPE', `${record.name} is not a video`);
      await deps.jobs.setInputs(job.id, [{ mediaId: record.id, name: record.name }], deps.clock.now());
      settle.resolve(record);
      return { media: record, job: { ...job, inputs: [{ mediaId: record.id, name: record.name }] } };
    } catch (err) {
      settle.reject(err);
      const at = deps.clock.now();
      await deps.jobs.update(job.id, { status: 'failed', error: `the upload was refused: ${err instanceof Error ? err.message : String(err)}`, finishedAt: at }, at);
      deps.queue.interrupt(job.id);
      throw err;
    }
  }

  /** Ingests each uploaded file, then queues one batch job; a refused file undoes the files this request added. */
  async function submitBatch(
    ownerId: string,
    task: JobTask,
    read: (onFile: (part: MultipartFile) => Promise<void>) => Promise<{ callback_url?: string; collection?: string; operation?: 'detect' | 'search' }>,
  ): Promise<Static<typeof BatchAccepted>> {
    const added: MediaRecord[] = [];
    const inputs: JobInput[] = [];
    let fields: { callback_url?: string; collection?: string; operation?: 'detect' | 'search' };
    try {
      fields = await read(async (part) => {
        if (part.fieldname !== 'files' && part.fieldname !== 'file') throw new AppError('VALIDATION_ERROR', `unexpected file field '${part.fieldname}'; send images in the field 'files'`);
        if (inputs.length >= deps.maxBatchFiles) throw new AppError('VALIDATION_ERROR', `at most ${deps.maxBatchFiles} files per batch`);
        const { record, created } = await ingestMedia(deps, { ownerId, filename: part.filename, content: fileBytes(part) });
        if (created) added.push(record);
        if (record.kind !== 'image') throw new AppError('UNSUPPORTED_MEDIA_TYPE', `${record.name} is a video; batches take images`);
        inputs.push({ mediaId: record.id, name: record.name });
      });
      if (inputs.length === 0) throw new AppError('VALIDATION_ERROR', "no files: send the images in the repeated multipart field 'files'");
      if (fields.callback_url) deps.checkUrl(fields.callback_url);
    } catch (err) {
      for (const m of added) await deleteMedia(deps, ownerId, m.id).catch(() => undefined);
      throw err;
    }
    const job = await submitJob(deps, { ownerId, kind: 'batch', inputs, tasks: [task], callbackUrl: fields.callback_url, options: optionsOf(fields) });
    return { job_id: job.id, poll_url: `/api/v1/jobs/${job.id}`, status_url: `/api/v1/jobs/${job.id}`, events_url: `/api/v1/jobs/${job.id}/events`, total: inputs.length, media_ids: inputs.map((i) => ('mediaId' in i ? i.mediaId : '')) };
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
    const res = reply.raw;
    const headers: Record<string, string> = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' };
    for (const [k, v] of Object.entries(reply.getHeaders())) if (typeof v === 'string') headers[k] = v;
    reply.hijack();
    res.writeHead(200, headers);
    let last = after;
    let ended = false;
    const pending: JobEvent[] = [];
    let replaying = true;
    const finish = (): void => {
      if (ended) return;
      ended = true;
      unsubscribe();
      clearInterval(beat);
      res.end();
    };
    const write = (e: JobEvent): void => {
      if (ended || e.seq <= last) return;
      last = e.seq;
      res.write(`id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`);
      if (e.type === 'status' && (e.data.status === 'SUCCESS' || e.data.status === 'FAILED')) finish();
    };
    // Subscribe before replaying so nothing published meanwhile is missed; duplicates are dropped by seq.
    const unsubscribe = deps.bus.subscribe(job.id, (e) => (replaying ? pending.push(e) : write(e)));
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
