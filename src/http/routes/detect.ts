import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import { effectiveSettings } from '../../app/ai-settings.js';
import { detectAndStore, type DetectAndStoreDeps } from '../../app/detect-and-store.js';
import { detectObjects, type DetectOptions } from '../../app/detect-objects.js';
import { getMedia } from '../../app/media-queries.js';
import type { AiSettingsRepository } from '../../app/ports.js';
import { chosenDetectionThreshold, type AiSettings } from '../../domain/ai-settings.js';
import { AppError } from '../../domain/errors.js';
import { multipartRoute, readImageForm } from '../plugins/multipart-form.js';
import { errorResponses, secured } from '../schemas/common.js';
import { DetectFields, DetectForm, DetectResponse, StoredDetections } from '../schemas/detect.js';
import { MediaId } from '../schemas/media.js';

/** What the detection routes need. */
export interface DetectRouteDeps extends DetectAndStoreDeps {
  readonly settings: AiSettingsRepository;
  readonly defaults: AiSettings;
  readonly maxImageBytes: number;
}

/** The options for one call: the caller's settings, overridden by the request's own fields. */
export function detectOptions(s: AiSettings, fields: Static<typeof DetectFields>): DetectOptions {
  return {
    model: fields.model ?? s.detection_model,
    threshold: fields.threshold ?? chosenDetectionThreshold(s),
    maxDetections: fields.max_detections ?? s.max_detections,
    classes: fields.classes !== undefined ? fields.classes.split(',').map((c) => c.trim()).filter(Boolean) : s.classes,
    tileOverlapPercent: s.big_image_tile_overlap_percent,
    batchSize: s.model_batch_size,
    tiling: fields.tiling ?? 'auto',
  };
}

/** `POST /api/v1/detect` and `GET /api/v1/media/{id}/detections`. */
export const detectRoutes: FastifyPluginAsyncTypebox<DetectRouteDeps> = async (app, deps) => {
  app.post(
    '/detect',
    {
      ...multipartRoute,
      schema: {
        tags: ['detect'],
        summary: 'Detect objects in an image (COCO-80 with the default model); large images are tiled',
        consumes: ['multipart/form-data'],
        body: DetectForm,
        security: secured,
        response: { 200: DetectResponse, ...errorResponses(400, 401, 413, 415, 422, 503) },
      },
    },
    async (request) => {
      const { fields, image, filename } = await readImageForm<Static<typeof DetectFields>>(request, DetectFields, deps.maxImageBytes);
      const ownerId = request.principal.ownerId;
      const opts = detectOptions(await effectiveSettings(deps, ownerId), fields);
      if (fields.store) return detectAndStore(deps, { ownerId, filename, data: image }, opts);
      return detectObjects(deps, image, opts);
    },
  );

  app.get(
    '/media/:id/detections',
    {
      schema: {
        tags: ['media', 'detect'],
        summary: 'The detections stored with a medium (by /detect with store=true or a job)',
        params: Type.Object({ id: MediaId }),
        security: secured,
        response: { 200: StoredDetections, ...errorResponses(401, 404, 422) },
      },
    },
    async (request) => {
      const { ownerId } = request.principal;
      const media = await getMedia(deps.media, ownerId, request.params.id);
      const stored = await deps.analyses.find(ownerId, media.id, 'detect');
      if (!stored) throw new AppError('NOT_FOUND', `media ${media.id} has no stored detections yet`);
      const r = stored.result as { width: number; height: number; detections: Static<typeof StoredDetections>['detections'] };
      return { media_id: media.id, model: stored.model, analysed_at: stored.createdAt.toISOString(), width: r.width, height: r.height, detections: r.detections };
    },
  );
};
