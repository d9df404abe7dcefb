import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { changeUserSettings, getUserSettings, type AiSettingsDeps } from '../../app/ai-settings.js';
import { AiSettingsSchema } from '../../domain/ai-settings.js';
import { errorResponses, secured, named } from '../schemas/common.js';

const Params = Type.Object({ userId: Type.String({ minLength: 1, maxLength: 200 }) });
const Body = Type.Record(Type.String(), Type.Unknown(), {
  description: 'Any subset of the settings, keys in snake_case, camelCase or PascalCase; unknown keys are refused',
});
const Settings = named('AiSettings', Type.Object(AiSettingsSchema.properties, { description: 'Effective settings (defaults filled in), snake_case' }));

/** `GET`, `PUT` and `PATCH /api/v1/users/{userId}/ai-settings` (seed 000). */
export const aiSettingsRoutes: FastifyPluginAsyncTypebox<AiSettingsDeps> = async (app, deps) => {
  const common = { tags: ['settings'], params: Params, security: secured };
  app.get(
    '/users/:userId/ai-settings',
    { schema: { ...common, summary: "A user's effective AI settings (your own, or anyone's as admin)", response: { 200: Settings, ...errorResponses(401, 403) } } },
    async (request) => getUserSettings(deps, request.principal, request.params.userId),
  );
  app.put(
    '/users/:userId/ai-settings',
    {
      schema: { ...common, summary: 'Replace AI settings: keys left out go back to their defaults', body: Body, response: { 200: Settings, ...errorResponses(401, 403, 422) } },
    },
    async (request) => changeUserSettings(deps, request.principal, request.params.userId, request.body, 'replace'),
  );
  app.patch(
    '/users/:userId/ai-settings',
    { schema: { ...common, summary: 'Change some AI settings, keeping the others', body: Body, response: { 200: Settings, ...errorResponses(401, 403, 422) } } },
    async (request) => changeUserSettings(deps, request.principal, request.params.userId, request.body, 'merge'),
  );
};
