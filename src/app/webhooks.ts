/**
 * Webhooks and callbacks (seeds 003, 004). A finished job turns into durable delivery records — one for its
 * callback_url (signed with the owner's callback secret) and one per registered webhook subscribed to the event
 * (signed with that webhook's secret) — which the delivery loop sends and retries with backoff.
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../domain/errors.js';
import { jobState } from '../domain/job.js';
import type { Clock, DeliveryAttempt, DeliveryRecord, JobRecord, WebhookEvent, WebhookRecord, WebhookRepository, WebhookSender } from './ports.js';
import { newWebhookSecret, signedHeaders } from './webhook-signing.js';

/** Events a webhook may subscribe to. */
export const WEBHOOK_EVENTS: readonly WebhookEvent[] = ['job.completed', 'job.failed'];

/** Dependencies of the webhook use cases. */
export interface WebhookDeps {
  readonly webhooks: WebhookRepository;
  readonly clock: Clock;
  /** Refuses a malformed URL (422). */
  readonly checkUrl: (url: string) => void;
}

/** Registers a webhook; the answer is the only time its secret is shown. */
export async function registerWebhook(deps: WebhookDeps, ownerId: string, input: { url: string; events?: string[]; description?: string }): Promise<WebhookRecord> {
  deps.checkUrl(input.url);
  const events = input.events?.length ? [...new Set(input.events)] : [...WEBHOOK_EVENTS];
  const unknown = events.filter((e) => !WEBHOOK_EVENTS.includes(e as WebhookEvent));
  if (unknown.length) throw new AppError('VALIDATION_ERROR', `unknown event(s): ${unknown.join(', ')}; known: ${WEBHOOK_EVENTS.join(', ')}`);
  const webhook: WebhookRecord = {
    id: randomUUID(),
    ownerId,
    url: input.url,
    events: events as WebhookEvent[],
    description: input.description ?? null,
    secret: newWebhookSecret(),
    createdAt: deps.clock.now(),
  };
  await deps.webhooks.insert(webhook);
  return webhook;
}

/** The owner's secret for callback_url deliveries (made on first use). */
export function callbackSecret(deps: WebhookDeps, ownerId: string): Promise<string> {
  return deps.webhooks.ownerSecret(ownerId, newWebhookSecret, deps.clock.now());
}

/** The message body a job's end produces, the same for callbacks and webhooks. */
export function jobEventPayload(job: JobRecord, event: WebhookEvent, at: Date): string {
  return JSON.stringify({
    type: event,
    timestamp: at.toISOString(),
    data: { task_id: job.id, job_id: job.id, kind: job.kind, status: jobState(job.status), result: job.status === 'succeeded' ? job.result : null, error_message: job.error },
  });
}

/** Records the deliveries a finished job owes; the delivery loop sends them. */
export async function enqueueJobDeliveries(deps: WebhookDeps, job: JobRecord): Promise<number> {
  const event: WebhookEvent = job.status === 'succeeded' ? 'job.completed' : 'job.failed';
  const at = deps.clock.now();
  const payload = jobEventPayload(job, event, at);
  const targets: { url: string; webhookId: string | null }[] = [];
  if (job.callbackUrl) targets.push({ url: job.callbackUrl, webhookId: null });
  for (const w of await deps.webhooks.list(job.ownerId)) if (w.events.includes(event)) targets.push({ url: w.url, webhookId: w.id });
  for (const t of targets) {
    const delivery: DeliveryRecord = {
      id: `msg_${randomUUID().replaceAll('-', '')}`,
      ownerId: job.ownerId,
      jobId: job.id,
      webhookId: t.webhookId,
      url: t.url,
      event,
      payload,
      status: 'pending',
      attempts: 0,
      nextAttemptAt: at,
      createdAt: at,
      deliveredAt: null,
    };
    await deps.webhooks.insertDelivery(delivery);
  }
  return targets.length;
}

/** Dependencies of sending. */
export interface DeliverDeps extends WebhookDeps {
  readonly sender: WebhookSender;
  /** Wait before each retry, in ms; its length + 1 is the number of attempts. */
  readonly retrySchedule: readonly number[];
  /** The longest one send may take (the sender's own time limit). */
  readonly sendTimeoutMs: number;
}

/** What an attempt says until it has finished: if the process dies while sending, it stays so. */
export const INTERRUPTED_ATTEMPT = 'interrupted: the process stopped while this attempt was being sent';
/** Slack on top of the send timeout before a claimed delivery may be taken by another loop. */
const LEASE_SLACK_MS = 30_000;

/** Sends the deliveries that are due; returns how many were tried. */
export async function deliverDue(deps: DeliverDeps, limit = 20): Promise<number> {
  const now = deps.clock.now();
  // A lease just longer than one send: each attempt then moves its own retry time (see deliverOne).
  const due = await deps.webhooks.claimDue(now, new Date(now.getTime() + deps.sendTimeoutMs + LEASE_SLACK_MS), limit);
  await Promise.all(due.map((d) => deliverOne(deps, d)));
  return due.length;
}

/**
 * One attempt. It is recorded (as interrupted) and the delivery's retry time moved to when the schedule would
 * retry a failed attempt (plus the send timeout, since another process may still be sending) before anything is
 * sent: a crash mid-send leaves the attempt on record and the delivery retried on schedule, not after a long lease.
 */
async function deliverOne(deps: DeliverDeps, d: DeliveryRecord): Promise<void> {
  const at = deps.clock.now();
  const attemptNo = d.attempts + 1;
  if (attemptNo > deps.retrySchedule.length + 1) {
    // Its last attempt was interrupted: no tries are left.
    await deps.webhooks.giveUp(d.id);
    return;
  }
  const wait = deps.retrySchedule[d.attempts];
  await deps.webhooks.startAttempt(d.id, { attempt: attemptNo, at, statusCode: null, error: INTERRUPTED_ATTEMPT, durationMs: 0 }, new Date(at.getTime() + deps.sendTimeoutMs + (wait ?? LEASE_SLACK_MS)));
  let statusCode: number | null = null;
  let error: string | null = null;
  let ms = 0;
  try {
    const secret = d.webhookId ? (await deps.webhooks.find(d.ownerId, d.webhookId))?.secret : await callbackSecret(deps, d.ownerId);
    if (!secret) throw new Error('the webhook was deleted');
    const headers = { 'content-type': 'application/json', 'user-agent': 'Argus-Webhooks/1', ...signedHeaders(secret, d.id, d.payload, at) };
    const res = await deps.sender.post(d.url, d.payload, headers);
    statusCode = res.status;
    ms = res.ms;
    if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}${res.text ? `: ${res.text.slice(0, 200)}` : ''}`;
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  }
  const attempt: DeliveryAttempt = { attempt: attemptNo, at, statusCode, error, durationMs: Math.round(ms) };
  const gone = error === 'the webhook was deleted';
  const next = !error
    ? { status: 'delivered' as const, nextAttemptAt: null, deliveredAt: deps.clock.now() }
    : wait === undefined || gone
      ? { status: 'failed' as const, nextAttemptAt: null, deliveredAt: null }
      : { status: 'pending' as const, nextAttemptAt: new Date(at.getTime() + wait), deliveredAt: null };
  await deps.webhooks.finishAttempt(d.id, attempt, next);
}
