import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import { createApiKey } from '../../app/api-keys.js';
import type { ApiKeyRecord, ApiKeyRepository, Clock } from '../../app/ports.js';
import { AppError } from '../../domain/errors.js';
import { requireAdmin } from '../plugins/auth.js';
import { errorResponses, secured, named } from '../schemas/common.js';

const ApiKey = named('ApiKey', Type.Object({
  id: Type.String(),
  name: Type.String(),
  owner_id: Type.String(),
  role: Type.Union([Type.Literal('admin'), Type.Literal('user')]),
  prefix: Type.String({ description: 'The first characters of the key, to recognise it' }),
  created_at: Type.String({ format: 'date-time' }),
  last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
}));

/** An API key as the API shows it (never the key or its hash). */
export const apiKeyView = (k: ApiKeyRecord): Static<typeof ApiKey> => ({
  id: k.id,
  name: k.name,
  owner_id: k.ownerId,
  role: k.role,
  prefix: k.prefix,
  created_at: k.createdAt.toISOString(),
  last_used_at: k.lastUsedAt?.toISOString() ?? null,
});
/** `/api/v1/keys`: admins create, list and revoke API keys (the way to do it while the embedded server runs). */
export const keyRoutes: FastifyPluginAsyncTypebox<{ keys: ApiKeyRepository; clock: Clock }> = async (app, deps) => {
  app.post(
    '/keys',
    {
      schema: {
        tags: ['keys'],
        summary: 'Create an API key (admin). The key is in this answer only.',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100 }),
            owner_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            role: Type.Optional(Type.Union([Type.Literal('admin'), Type.Literal('user')])),
          },
          { additionalProperties: false },
        ),
        security: secured,
        response: { 201: Type.Object({ key: Type.String(), api_key: ApiKey }), ...errorResponses(401, 403, 422) },
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      const created = await createApiKey(deps, { name: request.body.name, ownerId: request.body.owner_id, role: request.body.role });
      return reply.status(201).header('location', `/api/v1/keys/${created.record.id}`).send({ key: created.key, api_key: apiKeyView(created.record) });
    },
  );

  app.get(
    '/keys',
    { schema: { tags: ['keys'], summary: 'List API keys (admin)', security: secured, response: { 200: Type.Object({ items: Type.Array(ApiKey) }), ...errorResponses(401, 403) } } },
    async (request) => {
      requireAdmin(request);
      return { items: (await deps.keys.list()).map(apiKeyView) };
    },
  );

  app.delete(
    '/keys/:id',
    { schema: { tags: ['keys'], summary: 'Revoke an API key (admin)', params: Type.Object({ id: Type.String({ format: 'uuid' }) }), security: secured, response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 422) } } },
    async (request, reply) => {
      requireAdmin(request);
      if (!(await deps.keys.delete(request.params.id))) throw new AppError('NOT_FOUND', `API key ${request.params.id} not found`);
      return reply.status(204).send(null);
    },
  );
};
