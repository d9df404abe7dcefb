/**
 * The OpenAPI 3.1 document, built by @fastify/swagger from the routes' TypeBox schemas and finished here so that it
 * reads as one product:
 * - every operation has an operationId (from OPERATION_IDS, one table for the whole API) and a tag;
 * - every schema with a `title` is a named schema under `components.schemas` (Media, Job, Error, ...), referenced
 *   wherever it appears;
 * - the errors every authenticated operation can give (401, 429, and 503 for the backing services) are listed with
 *   the envelope, besides those each route names.
 * `test/openapi.test.ts` validates the document and holds these rules; the client in packages/client is generated from it.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/** Every operation's id, by method and path as the document spells them. */
export const OPERATION_IDS: Record<string, string> = {
  'GET /health/live': 'getLiveness',
  'GET /health/ready': 'getReadiness',
  'GET /metrics': 'getMetrics',
  'GET /api/v1/me': 'getMe',
  'GET /api/v1/models': 'listModels',
  'POST /api/v1/media': 'uploadMedia',
  'GET /api/v1/media': 'listMedia',
  'GET /api/v1/media/{id}': 'getMedia',
  'DELETE /api/v1/media/{id}': 'deleteMedia',
  'GET /api/v1/media/{id}/content': 'getMediaContent',
  'GET /api/v1/media/{id}/thumbnail': 'getMediaThumbnail',
  'GET /api/v1/media/{id}/playback': 'getMediaPlayback',
  'GET /api/v1/media/{id}/detections': 'getMediaDetections',
  'POST /api/v1/blur/detect': 'detectBlur',
  'POST /api/v1/detect': 'detectObjects',
  'POST /api/v1/analyze': 'analyze',
  'GET /api/v1/results/{task_id}': 'getTaskResult',
  'GET /api/v1/jobs': 'listJobs',
  'GET /api/v1/jobs/{id}': 'getJob',
  'DELETE /api/v1/jobs/{id}': 'cancelJob',
  'GET /api/v1/jobs/{id}/events': 'streamJobEvents',
  'GET /api/v1/jobs/{id}/frames': 'listJobFrames',
  'GET /api/v1/jobs/{id}/deliveries': 'listJobDeliveries',
  'POST /api/v1/faces/search/batch': 'searchFacesBatch',
  'POST /api/v1/blur/detect/batch': 'detectBlurBatch',
  'POST /api/v1/detect/batch': 'detectObjectsBatch',
  'POST /api/v1/bibs/recognize/batch': 'recognizeBibsBatch',
  'POST /api/v1/faces/detect': 'detectFaces',
  'POST /api/v1/faces/enroll': 'enrollFace',
  'POST /api/v1/faces/search': 'searchFaces',
  'POST /api/v1/faces/compare': 'compareFaces',
  'POST /api/v1/faces/media/search': 'searchMediaByFace',
  'GET /api/v1/faces/collections': 'listCollections',
  'GET /api/v1/faces/persons': 'listPersons',
  'GET /api/v1/faces/persons/{id}': 'getPerson',
  'DELETE /api/v1/faces/persons/{id}': 'deletePerson',
  'POST /api/v1/faces/persons/{id}/faces': 'addPersonFace',
  'DELETE /api/v1/faces/persons/{id}/faces/{faceId}': 'deletePersonFace',
  'GET /api/v1/faces/persons/{id}/faces/{faceId}/thumbnail': 'getFaceThumbnail',
  'POST /api/v1/text/recognize': 'recognizeText',
  'POST /api/v1/bibs/recognize': 'recognizeBibs',
  'GET /api/v1/bibs/{number}/media': 'findMediaByBib',
  'POST /api/v1/webhooks': 'createWebhook',
  'GET /api/v1/webhooks': 'listWebhooks',
  'DELETE /api/v1/webhooks/{id}': 'deleteWebhook',
  'GET /api/v1/webhooks/{id}/deliveries': 'listWebhookDeliveries',
  'GET /api/v1/webhooks/callback-secret': 'getCallbackSecret',
  'GET /api/v1/users/{userId}/ai-settings': 'getAiSettings',
  'PUT /api/v1/users/{userId}/ai-settings': 'replaceAiSettings',
  'PATCH /api/v1/users/{userId}/ai-settings': 'updateAiSettings',
  'POST /api/v1/keys': 'createApiKey',
  'GET /api/v1/keys': 'listApiKeys',
  'DELETE /api/v1/keys/{id}': 'revokeApiKey',
  'POST /api/v1/session': 'signIn',
  'GET /api/v1/session': 'getSession',
  'DELETE /api/v1/session': 'signOut',
};

/** The document's tags, in the order the docs show them. */
const TAGS = [
  { name: 'media', description: 'Upload, list, download and delete media (stored under their content id)' },
  { name: 'detect', description: 'Object detection (COCO-80 with the built-in detectors)' },
  { name: 'blur', description: 'Blur and quality' },
  { name: 'faces', description: 'Faces: detect, enroll, search, compare; persons and collections' },
  { name: 'text', description: 'Text recognition (PP-OCRv4)' },
  { name: 'bibs', description: 'Race-bib numbers and the bib index' },
  { name: 'jobs', description: 'Asynchronous analyses: submit, poll, stream events, cancel' },
  { name: 'webhooks', description: 'Signed webhooks and their deliveries' },
  { name: 'settings', description: 'Per-user AI settings' },
  { name: 'identity', description: 'Who you are, API keys, console sessions' },
  { name: 'models', description: 'The models this server knows' },
  { name: 'health', description: 'Liveness, readiness and metrics' },
];

type Json = Record<string, unknown>;

const ERROR_REF = { $ref: '#/components/schemas/Error' };
/** Errors every authenticated operation can give, besides its own. */
const COMMON_ERRORS: Record<string, string> = {
  '401': 'Missing or bad credentials',
  '429': 'Too many requests (see Retry-After)',
  '503': 'A backing service or model is unavailable for a moment (see Retry-After)',
};

/** Registers the document (at /openapi.json) and Swagger UI (at /docs). */
export async function openapi(app: FastifyInstance, info: { version: string }): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Argus',
        description: 'Self-hosted vision API for photos and video: object detection, blur, faces, text and race-bib numbers, at once or as jobs.',
        version: info.version,
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      tags: TAGS,
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          session: { type: 'apiKey', in: 'cookie', name: 'argus_session', description: 'The console session (with the X-CSRF-Token header on state-changing requests)' },
        },
      },
    },
    transformObject: (documentObject) => finish('openapiObject' in documentObject ? (documentObject.openapiObject as Json) : (documentObject.swaggerObject as Json)),
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

/** Operation ids, named schemas and common errors (see the top of the file). */
export function finish(doc: Json): Json {
  const components = ((doc.components ??= {}) as Json);
  const schemas = ((components.schemas ??= {}) as Json);
  schemas.Error = hoist(
    {
      title: 'Error',
      type: 'object',
      description: 'The error envelope of every 4xx and 5xx answer',
      required: ['error'],
      properties: {
        error: {
          type: 'object',
          required: ['code', 'message', 'request_id'],
          properties: {
            code: { type: 'string', description: 'Machine-readable code, e.g. NOT_FOUND (see the README for the list)' },
            message: { type: 'string', description: 'What went wrong and what to do, for people' },
            request_id: { type: 'string', description: 'The id in the X-Request-Id header and the server log' },
            details: { description: 'Field problems as [{field, problem, allowed?}], or facts about the refusal' },
          },
        },
      },
    },
    schemas,
    true,
  );
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Json>>;
  for (const [route, operations] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(operations)) {
      if (typeof op !== 'object' || !op) continue;
      const id = OPERATION_IDS[`${method.toUpperCase()} ${route}`];
      if (id && !op.operationId) op.operationId = id;
      const responses = (op.responses ??= {}) as Record<string, Json>;
      if (op.security) {
        for (const [code, description] of Object.entries(COMMON_ERRORS)) {
          responses[code] ??= { description, content: { 'application/json': { schema: ERROR_REF } } };
        }
      }
      for (const [code, response] of Object.entries(responses)) {
        // Fastify's placeholder says nothing; the status says more.
        if (response.description === 'Default Response' || response.description === 'Error envelope') response.description = describeStatus(code);
      }
    }
  }
  walk(paths, schemas);
  return doc;
}

/** Replaces every titled schema under `node` by a reference to its named copy (hoisted on first sight). */
function walk(node: unknown, schemas: Json): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => {
      if (isTitled(item)) node[i] = hoist(item, schemas);
      else walk(item, schemas);
    });
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  for (const [key, value] of Object.entries(node)) {
    if (isTitled(value)) (node as Json)[key] = hoist(value, schemas);
    else walk(value, schemas);
  }
}

function isTitled(v: unknown): v is Json & { title: string } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as Json).title === 'string' && ((v as Json).type === 'object' || 'anyOf' in v || 'oneOf' in v);
}

/** Puts a titled schema under components (its own titled parts referenced in turn) and returns a reference to it. */
function hoist(schema: Json & { title?: unknown }, schemas: Json, returnSchema = false): Json {
  const name = String(schema.title);
  if (!(name in schemas)) {
    const copy = { ...schema };
    schemas[name] = copy;
    walk(copy, schemas);
  }
  return returnSchema ? (schemas[name] as Json) : { $ref: `#/components/schemas/${name}` };
}

function describeStatus(code: string): string {
  const known: Record<string, string> = {
    '200': 'OK',
    '201': 'Created',
    '202': 'Accepted: the job is stored and queued',
    '204': 'Done; no content',
    '206': 'Partial content (a byte range)',
    '400': 'Bad input (the message says which)',
    '401': 'Missing or bad credentials',
    '403': 'Not allowed for these credentials',
    '404': 'Not found (or not yours)',
    '405': 'Method not allowed (see Allow)',
    '408': 'The request was not received in time',
    '409': 'Conflicts with the current state',
    '413': 'Too large',
    '415': 'The request body has the wrong type (the message says what to send)',
    '416': 'The range cannot be served',
    '422': 'A field is missing or invalid (details name it)',
    '429': 'Too many requests (see Retry-After)',
    '503': 'Unavailable for a moment (see Retry-After)',
  };
  return known[code] ?? 'Response';
}
