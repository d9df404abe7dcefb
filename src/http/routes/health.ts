import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { named } from '../schemas/common.js';
import Type, { type Static } from 'typebox';
import { isUsable, type ModelStatus } from '../../domain/model-manifest.js';

/** A named readiness check; it throws when its part is not ready. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void>;
}

const Check = Type.Object({ status: Type.Union([Type.Literal('ok'), Type.Literal('fail')]), error: Type.Optional(Type.String()) });
const ModelState = Type.Object({
  task: Type.String(),
  state: Type.String(),
  file: Type.Optional(Type.String({ description: 'Where the file is looked for (admins only)' })),
  detail: Type.Optional(Type.String({ description: 'Why it cannot be used (admins only)' })),
});
const Ready = named('Readiness', Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('fail')]),
  checks: Type.Record(Type.String(), Check),
  models: Type.Optional(Type.Record(Type.String(), ModelState, { description: 'Every known model; a missing one fails only the endpoints that need it' })),
  degraded: Type.Optional(Type.Array(Type.String(), { description: 'Models that cannot be used' })),
  capabilities: Type.Optional(
    Type.Record(
      Type.String(),
      Type.Object({ status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]), detail: Type.Optional(Type.String()) }),
      { description: 'What this process can do beyond the checks, e.g. video (ffmpeg); unavailable ones fail only the work that needs them' },
    ),
  ),
}));

/** `GET /health/live` (the process answers) and `GET /health/ready` (its dependencies answer). */
export const healthRoutes: FastifyPluginAsyncTypebox<{
  checks: readonly ReadinessCheck[];
  models?: () => ModelStatus[];
  /** Whether the caller may see failure messages and file paths (admins); others see states only. */
  details?: (request: FastifyRequest) => Promise<boolean>;
  /** Capabilities found at startup, with a public detail and one for admins (paths). */
  capabilities?: Record<string, { status: 'ok' | 'unavailable'; detail: string; adminDetail?: string }>;
}> = async (app, { checks, models, details, capabilities }) => {
  app.get('/health/live', { schema: { tags: ['health'], summary: 'Liveness', response: { 200: Type.Object({ status: Type.Literal('ok') }) } } }, async () => ({ status: 'ok' as const }));

  app.get('/health/ready', { schema: { tags: ['health'], summary: 'Readiness: database, storage; model states', response: { 200: Ready, 503: Ready } } }, async (request, reply) => {
    const full = details ? await details(request) : true;
    const report: Record<string, { status: 'ok' | 'fail'; error?: string }> = {};
    await Promise.all(
      checks.map(async (c) => {
        try {
          await c.check();
          report[c.name] = { status: 'ok' };
        } catch (err) {
          request.log.warn({ err, check: c.name }, 'readiness check failed');
          report[c.name] = full ? { status: 'fail', error: err instanceof Error ? err.message : String(err) } : { status: 'fail' };
        }
      }),
    );
    const ok = Object.values(report).every((r) => r.status === 'ok');
    const body: Static<typeof Ready> = { status: ok ? 'ok' : 'fail', checks: report };
    if (models) {
      const list = models();
      body.models = Object.fromEntries(
        list.map((m) => [m.manifest.id, { task: m.manifest.task, state: m.state, ...(full ? { file: m.path ?? m.source, ...(m.detail ? { detail: m.detail } : {}) } : {}) }]),
      );
      body.degraded = list.filter((m) => !isUsable(m.state)).map((m) => m.manifest.id);
    }
    if (capabilities) {
      body.capabilities = Object.fromEntries(Object.entries(capabilities).map(([name, c]) => [name, { status: c.status, detail: full && c.adminDetail ? c.adminDetail : c.detail }]));
    }
    return reply.status(ok ? 200 : 503).send(body);
  });
};
