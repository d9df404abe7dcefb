import path from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { commitUpload, discardUpload, stageUpload, type IngestMediaDeps, type StagedUpload } from '../../app/ingest-media.js';
import { deleteMedia, getMedia, listMedia } from '../../app/media-queries.js';
import { errorResponses, secured } from '../schemas/common.js';
import { Media, MediaId, MediaList, MediaListQuery, MediaUploadForm, mediaView } from '../schemas/media.js';
import { fileBytes, multipartRoute, readForm } from '../plugins/multipart-form.js';
import { AppError } from '../../domain/errors.js';
import { MediaStatus } from '../../domain/media-status.js';

/** What the media routes need. */
export interface MediaRouteDeps extends IngestMediaDeps {
  readonly maxUploadBytes: number;
}

const Params = Type.Object({ id: MediaId });

/** `/api/v1/media`: upload, list, read, download (with ranges) and delete an owner's media. */
export const mediaRoutes: FastifyPluginAsyncTypebox<MediaRouteDeps> = async (app, deps) => {
  app.post(
    '/media',
    {
      ...multipartRoute,
      schema: {
        tags: ['media'],
        summary: 'Upload an image or video (streamed to disk, stored under its content id)',
        consumes: ['multipart/form-data'],
        body: MediaUploadForm,
        security: secured,
        response: { 200: Media, 201: Media, ...errorResponses(400, 401, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      let staged: StagedUpload | undefined;
      try {
        // The file is only staged while the form is read: a refusal of anything after it leaves nothing behind.
        await readForm(request, {
          fields: Type.Object({}, { additionalProperties: false }),
          maxFileBytes: deps.maxUploadBytes,
          fileFields: ['file'],
          onFile: async (part) => {
            staged = await stageUpload(deps, { filename: part.filename, content: fileBytes(part) });
          },
        });
      } catch (err) {
        if (staged) await discardUpload(deps, staged);
        throw err;
      }
      if (!staged) throw new AppError('VALIDATION_ERROR', "no file: send the media in the multipart field 'file'", [{ field: 'file', problem: 'missing' }]);
      const result = await commitUpload(deps, request.principal.ownerId, staged);
      if (result.created) void reply.header('location', `/api/v1/media/${result.record.id}`);
      return reply.status(result.created ? 201 : 200).send(mediaView(result.record));
    },
  );

  app.get(
    '/media',
    { schema: { tags: ['media'], summary: "List the caller's media", querystring: MediaListQuery, security: secured, response: { 200: MediaList, ...errorResponses(401, 422) } } },
    async (request) => {
      const q = request.query;
      const page = await listMedia(deps.media, request.principal.ownerId, {
        limit: q.limit,
        offset: q.offset,
        ...(q.kind ? { kind: q.kind } : {}),
        ...(q.status !== undefined ? { status: typeof q.status === 'number' ? q.status : MediaStatus[q.status] } : {}),
      });
      return { items: page.items.map(mediaView), total: page.total, limit: q.limit, offset: q.offset };
    },
  );

  app.get(
    '/media/:id',
    { schema: { tags: ['media'], summary: 'One media record', params: Params, security: secured, response: { 200: Media, ...errorResponses(401, 404, 422) } } },
    async (request) => mediaView(await getMedia(deps.media, request.principal.ownerId, request.params.id)),
  );

  app.get(
    '/media/:id/content',
    {
      schema: {
        tags: ['media'],
        summary: 'The stored bytes; supports HTTP range requests',
        params: Params,
        security: secured,
        response: { 200: Type.Unsafe({ type: 'string', format: 'binary' }), 206: Type.Unsafe({ type: 'string', format: 'binary' }), ...errorResponses(401, 404, 416) },
      },
    },
    async (request, reply) => {
      const record = await getMedia(deps.media, request.principal.ownerId, request.params.id);
      const file = deps.blobs.locate(record.kind, record.key);
      return reply.type(record.contentType).sendFile(path.basename(file), path.dirname(file), { dotfiles: 'deny', cacheControl: false });
    },
  );

  app.delete(
    '/media/:id',
    { schema: { tags: ['media'], summary: 'Delete a media record and its file', params: Params, security: secured, response: { 204: Type.Null(), ...errorResponses(401, 404, 422) } } },
    async (request, reply) => {
      await deleteMedia(deps, request.principal.ownerId, request.params.id);
      return reply.status(204).send(null);
    },
  );
};
