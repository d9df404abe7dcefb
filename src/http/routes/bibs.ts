import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import { effectiveSettings } from '../../app/ai-settings.js';
import { indexImage, mediaForBib, type BibIndexDeps } from '../../app/bib-index.js';
import { bibOptionsFrom, ocrOptionsFrom, recognizeBibsInPixels, type BibDeps, type BibOptions } from '../../app/bibs.js';
import { analyseAndStore } from '../../app/detect-and-store.js';
import { faceSettingsFrom } from '../../app/faces.js';
import type { IngestMediaDeps } from '../../app/ingest-media.js';
import { checkImage } from '../../app/load-image.js';
import { recognizeText } from '../../app/ocr-pipeline.js';
import type { AiSettingsRepository } from '../../app/ports.js';
import type { AiSettings } from '../../domain/ai-settings.js';
import { AppError } from '../../domain/errors.js';
import { multipartRoute, readImageForm } from '../plugins/multipart-form.js';
import { BibMediaResponse, BibResponse, TextResponse } from '../schemas/bibs.js';
import { errorResponses, secured } from '../schemas/common.js';

/** What the text and bib routes need. */
export interface BibRouteDeps extends BibDeps, BibIndexDeps, IngestMediaDeps {
  readonly settings: AiSettingsRepository;
  readonly defaults: AiSettings;
  readonly maxImageBytes: number;
}

const TextFields = Type.Object(
  { min_confidence: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Drop lines read with less mean confidence (default: your text_min_confidence)' })) },
  { additionalProperties: false },
);
const BibFields = Type.Object(
  {
    store: Type.Optional(Type.Boolean({ description: 'Also store the image with its bibs (and faces, for bib search); answers with media_id' })),
    min_confidence: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Minimum OCR confidence of a bib (default: your bib_min_confidence)' })),
    min_digits: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
    max_digits: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
  },
  { additionalProperties: false },
);
const BibNumber = Type.String({ pattern: '^[0-9]{1,10}$', description: 'A bib number (digits)' });

/** `POST /text/recognize`, `POST /bibs/recognize` and `GET /bibs/{number}/media`. */
export const bibRoutes: FastifyPluginAsyncTypebox<BibRouteDeps> = async (app, deps) => {
  const form = <R extends typeof TextResponse | typeof BibResponse>(tags: string[], summary: string, body: ReturnType<typeof Type.Object>, response: R) => ({
    ...multipartRoute,
    schema: { tags, summary, consumes: ['multipart/form-data'], body, security: secured, response: { 200: response, ...errorResponses(400, 401, 413, 415, 422, 503) } },
  });

  app.post(
    '/text/recognize',
    form(['text'], 'Text lines in an image (PP-OCRv4): text, confidence, box and polygon per line, and the whole text in reading order', Type.Object({ file: Type.String({ format: 'binary' }), ...TextFields.properties }), TextResponse),
    async (request) => {
      const { fields, image } = await readImageForm<Static<typeof TextFields>>(request, TextFields, deps.maxImageBytes);
      const opts = ocrOptionsFrom(await effectiveSettings(deps, request.principal.ownerId));
      return recognizeText(deps, image, { ...opts, minConfidence: fields.min_confidence ?? opts.minConfidence });
    },
  );

  app.post(
    '/bibs/recognize',
    form(['bibs'], 'Race-bib numbers: a bib detector when registered, else OCR on each person\'s torso (or the whole image)', Type.Object({ file: Type.String({ format: 'binary' }), ...BibFields.properties }), BibResponse),
    async (request) => {
      const { fields, image, filename } = await readImageForm<Static<typeof BibFields>>(request, BibFields, deps.maxImageBytes);
      const ownerId = request.principal.ownerId;
      const settings = await effectiveSettings(deps, ownerId);
      const base = bibOptionsFrom(settings);
      const opts: BibOptions = {
        ...base,
        rules: { minConfidence: fields.min_confidence ?? base.rules.minConfidence, minDigits: fields.min_digits ?? base.rules.minDigits, maxDigits: fields.max_digits ?? base.rules.maxDigits },
      };
      if (opts.rules.minDigits > opts.rules.maxDigits) {
        throw new AppError('VALIDATION_ERROR', `min_digits (${opts.rules.minDigits}) is more than max_digits (${opts.rules.maxDigits})`);
      }
      await checkImage(image, deps.sniffer, deps.decoder, deps.limits);
      const analyse = async () => {
        const pixels = await deps.decoder.decodeRgb(image);
        return { pixels, report: await recognizeBibsInPixels(deps, pixels, opts) };
      };
      if (!fields.store) return (await analyse()).report;
      const face = faceSettingsFrom(settings);
      const stored = await analyseAndStore(deps, { ownerId, filename, data: image }, 'bib recognition', analyse, async (mediaId, { pixels, report }) => {
        await indexImage(deps, ownerId, mediaId, pixels, report, face);
      });
      return { media_id: stored.media_id, ...stored.report };
    },
  );

  app.get(
    '/bibs/:number/media',
    {
      schema: {
        tags: ['bibs'],
        summary: 'Every stored photo or video where this bib was read, then those where only its carrier\'s face was seen (inferred: true)',
        params: Type.Object({ number: BibNumber }),
        querystring: Type.Object({ threshold: Type.Optional(Type.Number({ minimum: -1, maximum: 1, description: 'Face similarity for inferred matches (default: your face_similarity_threshold)' })) }, { additionalProperties: false }),
        security: secured,
        response: { 200: BibMediaResponse, ...errorResponses(401, 422) },
      },
    },
    async (request) => {
      const ownerId = request.principal.ownerId;
      const threshold = request.query.threshold ?? (await effectiveSettings(deps, ownerId)).face_similarity_threshold;
      return mediaForBib(deps, ownerId, request.params.number, threshold);
    },
  );
};
