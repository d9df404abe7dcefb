import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import sharp from 'sharp';
import Type from 'typebox';
import { getMedia } from '../../app/media-queries.js';
import type { BlobStore, FaceRepository, ImageDecoder, MediaRecord, MediaRepository } from '../../app/ports.js';
import { FACE_THUMBNAIL_SIZE } from '../../app/faces.js';
import { runTool, type ToolRun } from '../../adapters/media/ffmpeg/input.js';
import type { Spawn } from '../../adapters/media/ffmpeg/spawn.js';
import type { VideoTools } from '../../adapters/media/ffmpeg/tools.js';
import { AppError } from '../../domain/errors.js';
import { errorResponses, secured } from '../schemas/common.js';
import { MediaId } from '../schemas/media.js';

/** What the thumbnail routes need. */
export interface ThumbnailRouteDeps {
  readonly media: MediaRepository;
  readonly blobs: BlobStore;
  readonly faces: FaceRepository;
  /** Cuts face pictures. */
  readonly decoder: ImageDecoder;
  /** ffmpeg for video posters; null: video thumbnails answer 503 with the reason. */
  readonly videoTools: VideoTools | null;
  /** Starts ffmpeg (the spawn helper where the process has one, so a poster does not fork the server). */
  readonly spawnTool?: Spawn | undefined;
  /** Where made thumbnails are kept (under ARGUS_DATA_DIR). */
  readonly cacheDir: string;
}

/** Longest side of a media thumbnail, in pixels (the console's grid shows them at up to 240 CSS px, 2x for HiDPI). */
const MEDIA_SIZE = 480;
/** Thumbnails made at once: each decodes a whole photo or starts an ffmpeg. */
const MAX_CONCURRENT = 2;
const Binary = Type.Unsafe({ type: 'string', format: 'binary' });

/**
 * `GET /media/{id}/thumbnail` and `GET /faces/persons/{id}/faces/{faceId}/thumbnail`: small WebP images for the
 * console's grid and person cards — a photo scaled down by sharp (EXIF orientation applied), a video's poster frame
 * taken by ffmpeg, a face cropped from the photo it was enrolled from. Made once and kept on disk, named by the
 * file's SHA-256 (two owners of the same bytes share it; ownership is checked before it is served), so a grid
 * never downloads the full files.
 */
export const thumbnailRoutes: FastifyPluginAsyncTypebox<ThumbnailRouteDeps> = async (app, deps) => {
  const making = new Map<string, Promise<string>>();
  let running = 0;
  const waiting: (() => void)[] = [];

  /** The cached file `name`, made by `make` the first time (concurrent requests for it share one making). */
  async function cached(name: string, make: () => Promise<Buffer>): Promise<string> {
    return cachedFile(name, async (partial) => writeFile(partial, await make()));
  }

  /** The cached file `name`, written to the path handed to `write` the first time (for files too big to hold in memory). */
  async function cachedFile(name: string, write: (partial: string) => Promise<void>): Promise<string> {
    const file = path.join(deps.cacheDir, name);
    if (await exists(file)) return file;
    let pending = making.get(name);
    if (!pending) {
      pending = (async () => {
        if (running >= MAX_CONCURRENT) await new Promise<void>((r) => waiting.push(r));
        running++;
        try {
          await mkdir(deps.cacheDir, { recursive: true });
          // Written aside and renamed, so a reader never sees half a file.
          const partial = `${file}.${randomUUID()}.partial`;
          try {
            await write(partial);
            await rename(partial, file);
          } catch (err) {
            await rm(partial, { force: true });
            throw err;
          }
          return file;
        } finally {
          running--;
          waiting.shift()?.();
          making.delete(name);
        }
      })();
      making.set(name, pending);
    }
    return pending;
  }

  function send(reply: FastifyReply, file: string, type = 'image/webp'): FastifyReply {
    // Private: the answer depends on the caller's credentials. Files made from a content id never change.
    return reply.type(type).header('cache-control', 'private, max-age=86400').sendFile(path.basename(file), path.dirname(file), { cacheControl: false });
  }

  app.get(
    '/media/:id/thumbnail',
    {
      schema: {
        tags: ['media'],
        summary: 'A small WebP preview of a medium (a video: its poster frame); made once and cached',
        params: Type.Object({ id: MediaId }),
        security: secured,
        response: { 200: Binary, ...errorResponses(401, 404, 422, 503) },
      },
    },
    async (request, reply) => {
      const record = await getMedia(deps.media, request.principal.ownerId, request.params.id);
      const file = await cached(`${contentName(record)}-${MEDIA_SIZE}.webp`, () => (record.kind === 'video' ? videoPoster(deps, record) : imageThumbnail(deps, record)));
      return send(reply, file);
    },
  );

  app.get(
    '/media/:id/playback',
    {
      schema: {
        tags: ['media'],
        summary: "A video as every browser plays it (MP4: H.264 and AAC) at the original's size and frame times; made once and cached; Range requests work",
        description:
          'For players that cannot decode the uploaded file (AVI, MPEG-4 Part 2, HEVC, ...): the boxes of GET /jobs/{id}/frames sit on this rendition as they do on the original, since neither its pixels nor its timestamps move. The original stays at /media/{id}/content.',
        params: Type.Object({ id: MediaId }),
        security: secured,
        response: { 200: Binary, 206: Binary, ...errorResponses(401, 404, 422, 503) },
      },
    },
    async (request, reply) => {
      const record = await getMedia(deps.media, request.principal.ownerId, request.params.id);
      if (record.kind !== 'video') throw new AppError('NOT_FOUND', `media ${record.id} is a photo: there is no video to play`);
      const file = await cachedFile(`${contentName(record)}-playback.mp4`, (partial) => transcodeForBrowsers(deps, record, partial));
      return send(reply, file, 'video/mp4');
    },
  );

  app.get(
    '/faces/persons/:id/faces/:faceId/thumbnail',
    {
      schema: {
        tags: ['faces'],
        summary: "An enrolled face's picture, kept with it at enrollment (faces enrolled before pictures were kept: cropped from their stored photo, else 404)",
        params: Type.Object({ id: Type.String({ format: 'uuid' }), faceId: Type.String({ format: 'uuid' }) }),
        security: secured,
        response: { 200: Binary, ...errorResponses(401, 404, 422) },
      },
    },
    async (request, reply) => {
      const { id, faceId } = request.params;
      const face = (await deps.faces.facesOf(request.principal.ownerId, id)).find((f) => f.id === faceId);
      if (!face) throw new AppError('NOT_FOUND', `face ${faceId} of person ${id} not found`);
      const kept = await deps.faces.faceThumbnail(request.principal.ownerId, id, faceId);
      if (kept) return reply.type('image/webp').header('cache-control', 'private, max-age=3600').send(Buffer.from(kept.buffer, kept.byteOffset, kept.byteLength));
      if (!face.mediaId) throw new AppError('NOT_FOUND', `face ${faceId} was enrolled without a stored photo, so there is no thumbnail`);
      const record = await getMedia(deps.media, request.principal.ownerId, face.mediaId);
      if (record.kind !== 'image') throw new AppError('NOT_FOUND', `face ${faceId} has no photo to crop`);
      const file = await cached(`face-${contentName(record)}-${faceId}.webp`, async () => {
        // The same crop enrollment keeps, cut from the stored photo (faces enrolled before pictures were kept).
        const cropped = await deps.decoder.faceCrop(await readFile(deps.blobs.locate(record.kind, record.key)), face.box, FACE_THUMBNAIL_SIZE);
        return Buffer.from(cropped.buffer, cropped.byteOffset, cropped.byteLength);
      });
      return send(reply, file);
    },
  );
};

/** A cache name for the file of a record: its SHA-256 (or, for records from before hashes, its key). */
function contentName(record: MediaRecord): string {
  return record.sha256 ?? record.key.replace(/[^A-Za-z0-9_.-]/g, '_');
}

async function exists(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

async function imageThumbnail(deps: ThumbnailRouteDeps, record: MediaRecord): Promise<Buffer> {
  const source = deps.blobs.locate(record.kind, record.key);
  try {
    return await sharp(source).rotate().resize(MEDIA_SIZE, MEDIA_SIZE, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 75 }).toBuffer();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new AppError('NOT_FOUND', `the file of media ${record.id} is missing from the media volume`);
    throw new AppError('INVALID_IMAGE', `media ${record.id} cannot be decoded for a thumbnail: ${(err as Error).message}`);
  }
}

/** A video's poster: the frame at 1 s (or the first, for shorter videos), scaled by ffmpeg and encoded by sharp. */
async function videoPoster(deps: ThumbnailRouteDeps, record: MediaRecord): Promise<Buffer> {
  if (!deps.videoTools) throw new AppError('SERVICE_UNAVAILABLE', 'video thumbnails need ffmpeg, which was not found on this server');
  const source = deps.blobs.locate(record.kind, record.key);
  const frame = async (seek: string[]): Promise<Buffer> => {
    const args = ['-hide_banner', '-loglevel', 'error', ...seek, '-i', source, '-frames:v', '1', '-vf', `scale=w=${MEDIA_SIZE}:h=${MEDIA_SIZE}:force_original_aspect_ratio=decrease`, '-f', 'image2pipe', '-c:v', 'png', 'pipe:1'];
    const run = await runFfmpeg(deps, args, { timeoutMs: 30_000, maxStdoutBytes: 16 * 1024 * 1024 }, `take a poster frame of media ${record.id}`);
    return run.stdout;
  };
  let png = await frame(['-ss', '1']);
  if (png.length === 0) png = await frame([]);
  if (png.length === 0) throw new AppError('BAD_REQUEST', `media ${record.id} has no video frame to show`);
  return sharp(png).webp({ quality: 75 }).toBuffer();
}

/** Longest a transcode may take before it is given up (a long video on a slow machine). */
const TRANSCODE_TIMEOUT_MS = 30 * 60_000;

/**
 * The video re-encoded by ffmpeg as MP4 (H.264, AAC), which every current browser decodes, keeping each frame's
 * size and timestamp (no scaling, no frame-rate change) so the analysed boxes line up with what is shown.
 */
async function transcodeForBrowsers(deps: ThumbnailRouteDeps, record: MediaRecord, out: string): Promise<void> {
  if (!deps.videoTools) throw new AppError('SERVICE_UNAVAILABLE', 'playing this video in a browser needs ffmpeg, which was not found on this server');
  const tools = deps.videoTools;
  const source = deps.blobs.locate(record.kind, record.key);
  const args = [
    ...['-hide_banner', '-loglevel', 'error', '-i', source, '-map', '0:v:0', '-map', '0:a:0?'],
    // A preview, not an archive copy: fast to make (VP8 took ten times longer here). H.264 in 4:2:0 needs even
    // sides; a pixel of padding on the right or bottom moves no box.
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2', '-pix_fmt', 'yuv420p'],
    ...(tools.ffmpeg.fpsMode ? ['-fps_mode', 'passthrough'] : ['-vsync', 'passthrough']),
    // The index up front, so playback and seeking start before the whole file is read.
    ...['-c:a', 'aac', '-b:a', '128k', '-movflags', '+faststart', '-f', 'mp4', '-y', out],
  ];
  await runFfmpeg(deps, args, { timeoutMs: TRANSCODE_TIMEOUT_MS, maxStdoutBytes: 1024 * 1024 }, `make a playable copy of media ${record.id}`);
}

/**
 * Runs ffmpeg to its end (through the spawn helper when there is one) to do `what`: a missing ffmpeg is a 503, a run
 * that failed or was stopped a 400 saying why.
 */
async function runFfmpeg(deps: ThumbnailRouteDeps, args: string[], opts: { timeoutMs: number; maxStdoutBytes: number }, what: string): Promise<ToolRun> {
  let run: ToolRun;
  try {
    run = await runTool(deps.videoTools!.ffmpeg.path, args, opts, deps.spawnTool);
  } catch (err) {
    throw new AppError('SERVICE_UNAVAILABLE', `ffmpeg could not be started: ${(err as Error).message}`);
  }
  if (run.code !== 0 || run.killed) throw new AppError('BAD_REQUEST', `ffmpeg could not ${what}: ${whyFailed(run) ?? 'it did not finish'}`);
  return run;
}

/** Why ffmpeg failed: stopped for its time or output, else the last line it wrote to stderr (its error), if any. */
function whyFailed(run: ToolRun): string | undefined {
  if (run.killed === 'timeout') return 'it took too long and was stopped';
  if (run.killed === 'output') return 'it wrote more than expected and was stopped';
  return run.stderr.trim().split('\n').pop() || undefined;
}
