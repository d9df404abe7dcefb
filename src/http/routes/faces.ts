import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import Type, { type Static, type TSchema } from 'typebox';
import { effectiveSettings } from '../../app/ai-settings.js';
import { compareFaces, detectFaces, enrollFace, faceSettingsFrom, searchFaces, type FaceSettings, type FacesDeps } from '../../app/faces.js';
import { mediaWithFace } from '../../app/face-media-search.js';
import type { AiSettingsRepository, BibRepository, PersonRecord } from '../../app/ports.js';
import type { AiSettings } from '../../domain/ai-settings.js';
import { AppError } from '../../domain/errors.js';
import type { IdempotencyDeps } from '../../app/idempotency.js';
import { answerOnce } from '../idempotency.js';
import { createHash } from 'node:crypto';
import { fileBuffer, multipartRoute, readForm } from '../plugins/multipart-form.js';
import { errorResponses, IdempotencyHeaders, Paging, secured } from '../schemas/common.js';
import { CollectionList, CompareResponse, EnrollResponse, FaceDetectResponse, FaceMediaResponse, FaceSearchResponse, PersonDetail, PersonList } from '../schemas/faces.js';

/** What the face routes need. */
export interface FaceRouteDeps extends FacesDeps, IdempotencyDeps {
  readonly bibs: BibRepository;
  readonly settings: AiSettingsRepository;
  readonly defaults: AiSettings;
  readonly maxImageBytes: number;
}

const Collection = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$', description: 'A collection (e.g. one per event); default "default"' });
const Uuid = Type.String({ format: 'uuid' });
const Threshold = Type.Number({ minimum: -1, maximum: 1, description: 'Minimum cosine similarity for a match (default: your face_similarity_threshold)' });

const DetectFields = Type.Object({}, { additionalProperties: false });
const EnrollFields = Type.Object(
  {
    person_name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    person_id: Type.Optional(Uuid),
    collection: Type.Optional(Collection),
    face_index: Type.Optional(Type.Integer({ minimum: 0, description: 'Which face when the photo has several (0 = the largest)' })),
  },
  { additionalProperties: false },
);
const AddFaceFields = Type.Object({ face_index: Type.Optional(Type.Integer({ minimum: 0 })) }, { additionalProperties: false });
const SearchFields = Type.Object(
  { collection: Type.Optional(Collection), threshold: Type.Optional(Threshold), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) },
  { additionalProperties: false },
);
const CompareFields = Type.Object({ threshold: Type.Optional(Threshold) }, { additionalProperties: false });
const MediaSearchFields = Type.Object(
  {
    threshold: Type.Optional(Threshold),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, description: 'Media to return at most (default 50)' })),
    face_index: Type.Optional(Type.Integer({ minimum: 0, description: 'Which face of the probe (0 = the largest, the default)' })),
  },
  { additionalProperties: false },
);
const PersonParams = Type.Object({ id: Uuid });

function personView(p: PersonRecord & { faceCount: number }): Static<typeof PersonList>['items'][number] {
  return { person_id: p.id, person_name: p.name, collection: p.collection, created_at: p.createdAt.toISOString(), face_count: p.faceCount };
}

/** Reads a form with the given file fields (each at most once) and text fields. */
async function readImages<T>(request: FastifyRequest, fields: TSchema, files: readonly string[], maxBytes: number): Promise<{ fields: T; images: Map<string, Buffer> }> {
  const images = new Map<string, Buffer>();
  const parsed = await readForm<T>(request, {
    fields,
    maxFileBytes: maxBytes,
    fileFields: files,
    maxFiles: files.length,
    onFile: async (part) => {
      if (images.has(part.fieldname)) throw new AppError('VALIDATION_ERROR', `file field '${part.fieldname}' was sent more than once; send ${files.join(' and ')}`, [{ field: part.fieldname, problem: 'sent more than once' }]);
      images.set(part.fieldname, await fileBuffer(part));
    },
  });
  await request.admitImage(...images.values());
  const missing = files.filter((f) => !images.has(f));
  if (missing.length) throw new AppError('VALIDATION_ERROR', `missing image: send ${missing.join(' and ')} as multipart file field${missing.length > 1 ? 's' : ''}`);
  return { fields: parsed, images };
}

/** Seed 004's face endpoints: detect, enroll, search, compare, and persons. */
export const faceRoutes: FastifyPluginAsyncTypebox<FaceRouteDeps> = async (app, deps) => {
  const settingsOf = async (ownerId: string, threshold?: number): Promise<FaceSettings> => faceSettingsFrom(await effectiveSettings(deps, ownerId), threshold);
  const form = (summary: string, body: TSchema, response: TSchema, codes: number[], status = 200) => ({
    ...multipartRoute,
    // The routes that create something (201) take an Idempotency-Key.
    schema: { tags: ['faces'], summary, consumes: ['multipart/form-data'], body, ...(status === 201 ? { headers: IdempotencyHeaders } : {}), security: secured, response: { [status]: response, ...errorResponses(...codes) } },
  });
  /** A collection that holds nobody is unknown: 404, rather than an empty answer that hides a typo. */
  const requireCollection = async (ownerId: string, collection: string): Promise<void> => {
    if (!(await deps.faces.listCollections(ownerId)).some((c) => c.collection === collection)) {
      throw new AppError('NOT_FOUND', `collection '${collection}' not found: enroll someone in it first (GET /api/v1/faces/collections lists yours)`);
    }
  };

  app.post('/faces/detect', form('Faces with 5 landmarks, detection score and quality', Type.Object({ file: Type.String({ format: 'binary' }) }), FaceDetectResponse, [400, 401, 413, 415, 422, 503]), async (request) => {
    const { images } = await readImages<Static<typeof DetectFields>>(request, DetectFields, ['file'], deps.maxImageBytes);
    return detectFaces(deps, images.get('file') as Buffer, await settingsOf(request.principal.ownerId));
  });

  app.post(
    '/faces/enroll',
    form(
      'Enroll a face: for a person named person_name (made on first use: names are unique in a collection) or for person_id, in a collection',
      Type.Object({ file: Type.String({ format: 'binary' }), ...EnrollFields.properties }),
      EnrollResponse,
      [400, 401, 404, 413, 415, 422, 503],
      201,
    ),
    async (request, reply) => {
      const { fields, images } = await readImages<Static<typeof EnrollFields>>(request, EnrollFields, ['file'], deps.maxImageBytes);
      const data = images.get('file') as Buffer;
      const photo = createHash('sha256').update(data).digest('hex');
      return answerOnce(deps, request, reply, { fields, photo }, async () => {
        const enrolled = await enrollFace(
          deps,
          { ownerId: request.principal.ownerId, data, collection: fields.collection, personName: fields.person_name, personId: fields.person_id, faceIndex: fields.face_index },
          await settingsOf(request.principal.ownerId),
        );
        return { status: 201, body: enrolled, location: `/api/v1/faces/persons/${String(enrolled.person_id)}` };
      });
    },
  );

  app.post(
    '/faces/search',
    form('Search a collection with every face of the image: matches above the threshold, best first', Type.Object({ file: Type.String({ format: 'binary' }), ...SearchFields.properties }), FaceSearchResponse, [400, 401, 413, 415, 422, 503]),
    async (request) => {
      const { fields, images } = await readImages<Static<typeof SearchFields>>(request, SearchFields, ['file'], deps.maxImageBytes);
      const ownerId = request.principal.ownerId;
      const collection = fields.collection ?? 'default';
      await requireCollection(ownerId, collection);
      return searchFaces(deps, { ownerId, data: images.get('file') as Buffer, collection, limit: fields.limit ?? 5 }, await settingsOf(ownerId, fields.threshold));
    },
  );

  app.post(
    '/faces/compare',
    form('Compare the largest face of two images: similarity and same_person', Type.Object({ image1: Type.String({ format: 'binary' }), image2: Type.String({ format: 'binary' }), ...CompareFields.properties }), CompareResponse, [400, 401, 413, 415, 422, 503]),
    async (request) => {
      const { fields, images } = await readImages<Static<typeof CompareFields>>(request, CompareFields, ['image1', 'image2'], deps.maxImageBytes);
      return compareFaces(deps, images.get('image1') as Buffer, images.get('image2') as Buffer, await settingsOf(request.principal.ownerId, fields.threshold));
    },
  );

  app.post(
    '/faces/media/search',
    form(
      'Find stored media by a face (a selfie): media whose indexed faces (from bib analyses and faces jobs) look like the probe',
      Type.Object({ file: Type.String({ format: 'binary' }), ...MediaSearchFields.properties }),
      FaceMediaResponse,
      [400, 401, 413, 415, 422, 503],
    ),
    async (request) => {
      const { fields, images } = await readImages<Static<typeof MediaSearchFields>>(request, MediaSearchFields, ['file'], deps.maxImageBytes);
      const ownerId = request.principal.ownerId;
      return mediaWithFace(deps, { ownerId, data: images.get('file') as Buffer, limit: fields.limit ?? 50, faceIndex: fields.face_index }, await settingsOf(ownerId, fields.threshold));
    },
  );

  app.get(
    '/faces/persons',
    {
      schema: {
        tags: ['faces'],
        summary: 'Enrolled persons, newest first',
        querystring: Type.Object({ ...Paging, collection: Type.Optional(Collection) }, { additionalProperties: false }),
        security: secured,
        response: { 200: PersonList, ...errorResponses(401, 422) },
      },
    },
    async (request) => {
      const q = request.query;
      if (q.collection) await requireCollection(request.principal.ownerId, q.collection);
      const page = await deps.faces.listPersons(request.principal.ownerId, { limit: q.limit, offset: q.offset, ...(q.collection ? { collection: q.collection } : {}) });
      return { items: page.items.map(personView), total: page.total, limit: q.limit, offset: q.offset };
    },
  );

  app.get(
    '/faces/collections',
    { schema: { tags: ['faces'], summary: 'Your collections, with how many persons and faces each holds', security: secured, response: { 200: CollectionList, ...errorResponses(401) } } },
    async (request) => ({ items: await deps.faces.listCollections(request.principal.ownerId) }),
  );

  app.get(
    '/faces/persons/:id',
    { schema: { tags: ['faces'], summary: 'A person and their enrolled faces', params: PersonParams, security: secured, response: { 200: PersonDetail, ...errorResponses(401, 404, 422) } } },
    async (request) => {
      const { ownerId } = request.principal;
      const person = await deps.faces.findPerson(ownerId, request.params.id);
      if (!person) throw new AppError('NOT_FOUND', `person ${request.params.id} not found`);
      const faces = await deps.faces.facesOf(ownerId, person.id);
      return { ...personView({ ...person, faceCount: faces.length }), faces: faces.map((f) => ({ face_id: f.id, model: f.model, box: f.box, quality: f.quality, created_at: f.createdAt.toISOString() })) };
    },
  );

  app.delete(
    '/faces/persons/:id',
    { schema: { tags: ['faces'], summary: 'Delete a person and every embedding of theirs', params: PersonParams, security: secured, response: { 204: Type.Null(), ...errorResponses(401, 404, 422) } } },
    async (request, reply) => {
      if (!(await deps.faces.deletePerson(request.principal.ownerId, request.params.id))) throw new AppError('NOT_FOUND', `person ${request.params.id} not found`);
      return reply.status(204).send(null);
    },
  );

  const addFace = form('Add one more face to a person', Type.Object({ file: Type.String({ format: 'binary' }), ...AddFaceFields.properties }), EnrollResponse, [400, 401, 404, 413, 415, 422, 503]);
  app.post(
    '/faces/persons/:id/faces',
    { ...addFace, schema: { ...addFace.schema, params: PersonParams } },
    async (request) => {
      const { ownerId } = request.principal;
      const person = await deps.faces.findPerson(ownerId, request.params.id);
      if (!person) throw new AppError('NOT_FOUND', `person ${request.params.id} not found`);
      const { fields, images } = await readImages<Static<typeof AddFaceFields>>(request, AddFaceFields, ['file'], deps.maxImageBytes);
      return enrollFace(deps, { ownerId, data: images.get('file') as Buffer, collection: person.collection, personId: person.id, faceIndex: fields.face_index }, await settingsOf(ownerId));
    },
  );

  app.delete(
    '/faces/persons/:id/faces/:faceId',
    {
      schema: { tags: ['faces'], summary: 'Remove one face of a person', params: Type.Object({ id: Uuid, faceId: Uuid }), security: secured, response: { 204: Type.Null(), ...errorResponses(401, 404, 422) } },
    },
    async (request, reply) => {
      if (!(await deps.faces.deleteFace(request.principal.ownerId, request.params.id, request.params.faceId))) throw new AppError('NOT_FOUND', `face ${request.params.faceId} of person ${request.params.id} not found`);
      return reply.status(204).send(null);
    },
  );
};
