/** Ports: webhook subscriptions, their deliveries and sending them. */

/** Job events a webhook can subscribe to. */
export type WebhookEvent = 'job.completed' | 'job.failed';

/** A registered webhook (its secret is shown once, at registration). */
export interface WebhookRecord {
  readonly id: string;
  readonly ownerId: string;
  readonly url: string;
  readonly events: WebhookEvent[];
  readonly description: string | null;
  readonly secret: string;
  readonly createdAt: Date;
}

/** One message to deliver: to a webhook, or (webhookId null) to a job's callback_url. */
export interface DeliveryRecord {
  readonly id: string;
  readonly ownerId: string;
  readonly jobId: string;
  readonly webhookId: string | null;
  readonly url: string;
  readonly event: WebhookEvent;
  readonly payload: string;
  readonly status: 'pending' | 'delivered' | 'failed';
  readonly attempts: number;
  readonly nextAttemptAt: Date | null;
  readonly createdAt: Date;
  readonly deliveredAt: Date | null;
}

/** One try at delivering a message. */
export interface DeliveryAttempt {
  readonly attempt: number;
  readonly at: Date;
  readonly statusCode: number | null;
  readonly error: string | null;
  readonly durationMs: number;
}

/** Persistence of webhooks, owners' callback secrets, deliveries and their attempts. */
export interface WebhookRepository {
  insert(webhook: WebhookRecord): Promise<void>;
  list(ownerId: string): Promise<WebhookRecord[]>;
  find(ownerId: string, id: string): Promise<WebhookRecord | null>;
  delete(ownerId: string, id: string): Promise<boolean>;
  /** The owner's callback signing secret, made with `create` the first time. */
  ownerSecret(ownerId: string, create: () => string, at: Date): Promise<string>;
  insertDelivery(delivery: DeliveryRecord): Promise<void>;
  /** Pending deliveries due by `at`; each is leased until `leaseUntil` so no other loop takes it meanwhile. */
  claimDue(at: Date, leaseUntil: Date, limit: number): Promise<DeliveryRecord[]>;
  /**
   * Records an attempt about to be made — as interrupted, until `finishAttempt` says how it went — counts it, and
   * moves the delivery's next try to `retryAt`: if the process dies while sending, that is when it is tried again.
   */
  startAttempt(id: string, attempt: DeliveryAttempt, retryAt: Date): Promise<void>;
  /** Records how an attempt went and the delivery's new state. */
  finishAttempt(id: string, attempt: DeliveryAttempt, next: { status: DeliveryRecord['status']; nextAttemptAt: Date | null; deliveredAt: Date | null }): Promise<void>;
  /** Gives up a delivery without another attempt (its last attempt was interrupted). */
  giveUp(id: string): Promise<void>;
  /** Deliveries with their attempts, of one job or one webhook. */
  deliveries(ownerId: string, by: { jobId: string } | { webhookId: string }): Promise<(DeliveryRecord & { attemptLog: DeliveryAttempt[] })[]>;
}

/** Sends one signed webhook POST (with the SSRF guard and a time limit); never throws on a non-2xx. */
export interface WebhookSender {
  post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; text: string; ms: number }>;
}
