/** `GET /api/v1/me`: who the caller is, as the API sees them. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { errorResponses, named, secured } from '../schemas/common.js';

const Me = named(
  'Me',
  Type.Object({
    owner_id: Type.String({ description: 'The owner everything you store belongs to (token users: jwt:<sub>)' }),
    user_id: Type.String({ description: "Your user id as your credential names it (a key's owner, a token's sub); `me` means it in paths" }),
    credential: Type.Union([Type.Literal('api_key'), Type.Literal('jwt'), Type.Literal('session'), Type.Literal('anonymous')], {
      description: 'What authenticated this request (anonymous: ARGUS_AUTH=off)',
    }),
    role: Type.Union([Type.Literal('admin'), Type.Literal('user')]),
    is_admin: Type.Boolean(),
    key_id: Type.Optional(Type.String({ description: 'The API key used, when one was' })),
  }),
);

/** The identity route. */
export const meRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/me', { schema: { tags: ['identity'], summary: 'Who you are: owner, user id, credential and role', security: secured, response: { 200: Me, ...errorResponses(401) } } }, async (request) => {
    const p = request.principal;
    return {
      owner_id: p.ownerId,
      user_id: p.subject,
      credential: p.via,
      role: p.role,
      is_admin: p.role === 'admin',
      ...(p.keyId ? { key_id: p.keyId } : {}),
    };
  });
};
