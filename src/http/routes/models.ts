/** `GET /api/v1/models`: the models this server knows, as `argus models list` shows them. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { ModelCatalog } from '../../app/ports.js';
import type { AiSettings } from '../../domain/ai-settings.js';
import { errorResponses, named, secured } from '../schemas/common.js';

const Model = named(
  'Model',
  Type.Object({
    id: Type.String(),
    task: Type.String({ description: 'detect, face-detect, face-embed, text-detect, text-recognize, text-classify or bib-detect' }),
    state: Type.Union(['ok', 'unverified', 'missing', 'checksum_mismatch', 'invalid_manifest'].map((s) => Type.Literal(s)), {
      description: 'ok and unverified can be used; missing: `argus models pull <id>`; checksum_mismatch: pull it again',
    }),
    licence: Type.String(),
    default: Type.Boolean({ description: 'The default model of its task (your settings may choose another)' }),
    builtin: Type.Boolean({ description: 'Described by Argus itself (else by a manifest file you added)' }),
    input: Type.Object({ width: Type.Integer(), height: Type.Integer() }),
    url: Type.Union([Type.String(), Type.Null()], { description: 'Where `argus models pull` fetches it' }),
    loaded: Type.Boolean({ description: 'Its session is in memory (warmed up at startup, see ARGUS_WARMUP, or used since); false: it loads on its first request' }),
    detail: Type.Optional(Type.String({ description: 'Why it cannot be used (admins only)' })),
    file: Type.Optional(Type.String({ description: 'Where its file was found (admins only)' })),
  }),
);

/** The models route. */
export const modelRoutes: FastifyPluginAsyncTypebox<{ models: ModelCatalog; defaults: AiSettings; loaded: () => ReadonlySet<string> }> = async (app, { models, defaults, loaded }) => {
  const isDefault = new Set([defaults.detection_model, defaults.face_detection_model, defaults.face_embedding_model, defaults.text_detection_model, defaults.text_recognition_model]);
  app.get(
    '/models',
    { schema: { tags: ['models'], summary: 'The models this server knows: task, state, licence, default', security: secured, response: { 200: named('ModelList', Type.Object({ items: Type.Array(Model) })), ...errorResponses(401) } } },
    async (request: FastifyRequest) => {
      const admin = request.principal.role === 'admin';
      const inMemory = loaded();
      return {
        items: models.list().map((m) => ({
          id: m.manifest.id,
          task: m.manifest.task,
          state: m.state,
          licence: m.manifest.licence,
          default: isDefault.has(m.manifest.id),
          builtin: m.source === 'builtin',
          input: { width: m.manifest.input.width, height: m.manifest.input.height },
          url: m.manifest.url ?? null,
          loaded: inMemory.has(m.manifest.id),
          ...(admin && m.detail ? { detail: m.detail } : {}),
          ...(admin && m.path ? { file: m.path } : {}),
        })),
      };
    },
  );
};
