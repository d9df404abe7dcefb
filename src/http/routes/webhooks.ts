import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import type { DeliveryAttempt, DeliveryRecord, JobRepository, WebhookRecord } from '../../app/ports.js';
import { callbackSecret, registerWebhook, WEBHOOK_EVENTS, type WebhookDeps } from '../../app/webhooks.js';
import { AppError } from '../../domain/errors.js';
import { errorResponses, secured, named } from '../schemas/common.js';
import { JobId } from '../schemas/jobs.js';

/** What the webhook routes need. */
export interface WebhookRouteDeps extends WebhookDeps {
  readonly jobs: JobRepository;
}

const Webhook = named('Webhook', Type.Object({
  id: Type.String({ format: 'uuid' }),
  url: Type.String(),
  events: Type.Array(Type.String()),
  description: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  secret: Type.Optional(Type.String({ description: 'whsec_... signing secret; returned only when the webhook is created' })),
}));
const Register = Type.Object(
  {
    url: Type.String({ minLength: 1 }),
    events: Type.Optional(Type.Array(Type.Union(WEBHOOK_EVENTS.map((e) => Type.Literal(e))), { minItems: 1 })),
    description: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
const Attempt = named('DeliveryAttempt', Type.Object({ attempt: Type.Integer(), at: Type.String(), status_code: Type.Union([Type.Integer(), Type.Null()]), error: Type.Union([Type.String(), Type.Null()]), duration_ms: Type.Integer() }));
const Delivery = named('Delivery', Type.Object({
  id: Type.String({ description: 'The webhook-id header of the message' }),
  job_id: Type.String(),
  webhook_id: Type.Union([Type.String(), Type.Null()], { description: 'null for the job callback_url' }),
  url: Type.String(),
  event: Type.String(),
  status: Type.Union([Type.Literal('PENDING'), Type.Literal('DELIVERED'), Type.Literal('FAILED')], { description: 'PENDING (more attempts to come), DELIVERED or FAILED (gave up)' }),
  attempts: Type.Array(Attempt),
  next_attempt_at: Type.Union([Type.String(), Type.Null()]),
  delivered_at: Type.Union([Type.String(), Type.Null()]),
}));
const Deliveries = named('DeliveryList', Type.Object({ items: Type.Array(Delivery) }));

function webhookView(w: WebhookRecord, withSecret = false): Static<typeof Webhook> {
  return { id: w.id, url: w.url, events: w.events, description: w.description, created_at: w.createdAt.toISOString(), ...(withSecret ? { secret: w.secret } : {}) };
}

function deliveryView(d: DeliveryRecord & { attemptLog: DeliveryAttempt[] }): Static<typeof Delivery> {
  return {
    id: d.id,
    job_id: d.jobId,
    webhook_id: d.webhookId,
    url: d.url,
    event: d.event,
    status: d.status.toUpperCase() as Static<typeof Delivery>['status'],
    attempts: d.attemptLog.map((a) => ({ attempt: a.attempt, at: a.at.toISOString(), status_code: a.statusCode, error: a.error, duration_ms: a.durationMs })),
    next_attempt_at: d.status === 'pending' ? (d.nextAttemptAt?.toISOString() ?? null) : null,
    delivered_at: d.deliveredAt?.toISOString() ?? null,
  };
}

/** `/api/v1/webhooks` (seed 004) and the delivery logs of webhooks and jobs. */
export const webhookRoutes: FastifyPluginAsyncTypebox<WebhookRouteDeps> = async (app, deps) => {
  const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
  app.post(
    '/webhooks',
    { schema: { tags: ['webhooks'], summary: 'Register a webhook for job.completed / job.failed; the answer carries its secret once', body: Register, security: secured, response: { 201: Webhook, ...errorResponses(401, 422) } } },
    async (request, reply) => {
      const hook = await registerWebhook(deps, request.principal.ownerId, request.body);
      return reply.status(201).header('location', `/api/v1/webhooks/${hook.id}`).send(webhookView(hook, true));
    },
  );
  app.get(
    '/webhooks',
    { schema: { tags: ['webhooks'], summary: 'Your webhooks (without secrets)', security: secured, response: { 200: Type.Object({ items: Type.Array(Webhook) }), ...errorResponses(401) } } },
    async (request) => ({ items: (await deps.webhooks.list(request.principal.ownerId)).map((w) => webhookView(w)) }),
  );
  app.delete(
    '/webhooks/:id',
    { schema: { tags: ['webhooks'], summary: 'Remove a webhook', params: IdParams, security: secured, response: { 204: Type.Null(), ...errorResponses(401, 404, 422) } } },
    async (request, reply) => {
      if (!(await deps.webhooks.delete(request.principal.ownerId, request.params.id))) throw new AppError('NOT_FOUND', `webhook ${request.params.id} not found`);
      return reply.status(204).send(null);
    },
  );
  app.get(
    '/webhooks/:id/deliveries',
    { schema: { tags: ['webhooks'], summary: "A webhook's deliveries with every attempt", params: IdParams, security: secured, response: { 200: Deliveries, ...errorResponses(401, 404, 422) } } },
    async (request) => {
      const { ownerId } = request.principal;
      if (!(await deps.webhooks.find(ownerId, request.params.id))) throw new AppError('NOT_FOUND', `webhook ${request.params.id} not found`);
      return { items: (await deps.webhooks.deliveries(ownerId, { webhookId: request.params.id })).map(deliveryView) };
    },
  );
  app.get(
    '/webhooks/callback-secret',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'The secret that signs your jobs\' callback_url deliveries (Standard Webhooks)',
        security: secured,
        response: { 200: Type.Object({ secret: Type.String() }), ...errorResponses(401) },
      },
    },
    async (request) => ({ secret: await callbackSecret(deps, request.principal.ownerId) }),
  );
  app.get(
    '/jobs/:id/deliveries',
    { schema: { tags: ['jobs', 'webhooks'], summary: "A job's callback and webhook deliveries with every attempt", params: Type.Object({ id: JobId }), security: secured, response: { 200: Deliveries, ...errorResponses(401, 404, 422) } } },
    async (request) => {
      const { ownerId } = request.principal;
      if (!(await deps.jobs.find(ownerId, request.params.id))) throw new AppError('NOT_FOUND', `job ${request.params.id} not found`);
      return { items: (await deps.webhooks.deliveries(ownerId, { jobId: request.params.id })).map(deliveryView) };
    },
  );
};
