/**
 * Prometheus metrics: HTTP request counts and latency histograms by route and status, plus the process's
 * default metrics, on `GET /metrics`. Each app has its own registry so several can live in one process.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../domain/errors.js';
import Type from 'typebox';
import { ErrorEnvelope } from '../schemas/common.js';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Registers the metrics hooks and the `/metrics` route. `allowed` decides who may scrape (metrics name routes,
 * models and volumes: not for anyone on the network).
 */
export function httpMetrics(app: FastifyInstance, registry: Registry, allowed: (request: FastifyRequest) => Promise<boolean> = async () => true): void {
  // Several apps may share one registry (tests build more than one over the same services): register once.
  if (!registry.getSingleMetric('process_cpu_user_seconds_total')) collectDefaultMetrics({ register: registry });
  const labelNames = ['method', 'route', 'status_code'] as const;
  const requests =
    (registry.getSingleMetric('argus_http_requests_total') as Counter<(typeof labelNames)[number]> | undefined) ??
    new Counter({ name: 'argus_http_requests_total', help: 'HTTP requests', labelNames, registers: [registry] });
  const duration =
    (registry.getSingleMetric('argus_http_request_duration_seconds') as Histogram<(typeof labelNames)[number]> | undefined) ??
    new Histogram({
      name: 'argus_http_request_duration_seconds',
      help: 'HTTP request latency',
      labelNames,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });

  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, not the URL, keeps label cardinality bounded; unmatched URLs share one label.
    const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
  });

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics: HTTP requests and latency by route, jobs by kind and state, job durations, inference time, storage sweeps',
        description: 'For admin credentials, or the bearer token set in ARGUS_METRICS_TOKEN (with authentication off: anyone).',
        response: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: Type.String() } } }, 401: ErrorEnvelope },
      },
    },
    async (request, reply) => {
      if (!(await allowed(request))) throw new AppError('UNAUTHORIZED', 'metrics need admin credentials or the bearer token in ARGUS_METRICS_TOKEN');
      return reply.type(registry.contentType).send(await registry.metrics());
    },
  );
}
