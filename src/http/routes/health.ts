import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';

/** A named readiness check; it throws when its part is not ready. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void>;
}

const Check = Type.Object({ status: Type.Union([Type.Literal('ok'), Type.Literal('fail')]), error: Type.Optional(Type.String()) });
const Ready = Type.Object({ status: Type.Union([Type.Literal('ok'), Type.Literal('fail')]), checks: Type.Record(Type.String(), Check) });

/** `GET /health/live` (the process answers) and `GET /health/ready` (its dependencies answer). */
export const healthRoutes: FastifyPluginAsyncTypebox<{ checks: readonly ReadinessCheck[] }> = async (app, { checks }) => {
  app.get('/health/live', { schema: { tags: ['health'], summary: 'Liveness', response: { 200: Type.Object({ status: Type.Literal('ok') }) } } }, async () => ({ status: 'ok' as const }));

  app.get('/health/ready', { schema: { tags: ['health'], summary: 'Readiness: database, storage', response: { 200: Ready, 503: Ready } } }, async (request, reply) => {
    const report: Record<string, { status: 'ok' | 'fail'; error?: string }> = {};
    await Promise.all(
      checks.map(async (c) => {
        try {
          await c.check();
          report[c.name] = { status: 'ok' };
        } catch (err) {
          request.log.warn({ err, check: c.name }, 'readiness check failed');
          report[c.name] = { status: 'fail', error: err instanceof Error ? err.message : String(err) };
        }
      }),
    );
    const ok = Object.values(report).every((r) => r.status === 'ok');
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'fail', checks: report });
  });
};
