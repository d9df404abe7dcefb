import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import { effectiveSettings } from '../../app/ai-settings.js';
import { detectBlur, type DetectBlurDeps } from '../../app/detect-blur.js';
import type { AiSettingsRepository } from '../../app/ports.js';
import type { AiSettings } from '../../domain/ai-settings.js';
import { AppError } from '../../domain/errors.js';
import { fileBuffer, multipartRoute, readForm } from '../plugins/multipart-form.js';
import { errorResponses, secured } from '../schemas/common.js';
import { BlurResult } from '../schemas/blur.js';

/** What the blur route needs. */
export interface BlurRouteDeps extends DetectBlurDeps {
  readonly maxImageBytes: number;
  readonly settings: AiSettingsRepository;
  readonly defaults: AiSettings;
}

const BlurFields = Type.Object(
  { threshold: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Laplacian variance below which the image is blurry (default: your blur_threshold setting, 100)' })) },
  { additionalProperties: false },
);



/** `POST /api/v1/blur/detect` (seed 004, Phase 2). */
export const blurRoutes: FastifyPluginAsyncTypebox<BlurRouteDeps> = async (app, deps) => {
  app.post(
    '/blur/detect',
    {
      ...multipartRoute,
      schema: {
        tags: ['blur'],
        summary: 'Is this photo blurry? Laplacian variance and FFT high-frequency ratio',
        consumes: ['multipart/form-data'],
        body: Type.Object({ file: Type.String({ format: 'binary' }), threshold: Type.Optional(Type.Number()) }),
        security: secured,
        response: { 200: BlurResult, ...errorResponses(400, 401, 413, 415, 422) },
      },
    },
    async (request) => {
      let image: Buffer | undefined;
      const fields = await readForm<Static<typeof BlurFields>>(request, {
        fields: BlurFields,
        maxFileBytes: deps.maxImageBytes,
        fileFields: ['file'],
        onFile: async (part) => {
          image = await fileBuffer(part);
        },
      });
      if (!image) throw new AppError('VALIDATION_ERROR', "no file: send the image in the multipart field 'file'");
      await request.admitImage(image);
      return detectBlur(deps, image, fields.threshold ?? (await effectiveSettings(deps, request.principal.ownerId)).blur_threshold);
    },
  );
};
