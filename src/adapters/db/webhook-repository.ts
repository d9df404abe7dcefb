import { and, asc, eq, inArray, lte, sql } from 'drizzle-orm';
import type { DeliveryAttempt, DeliveryRecord, WebhookEvent, WebhookRecord, WebhookRepository } from '../../app/ports.js';
import type { Db } from './database.js';
import { deliveries, deliveryAttempts, ownerSecrets, webhooks } from './schema.js';

function toWebhook(row: typeof webhooks.$inferSelect): WebhookRecord {
  return { ...row, events: row.events as WebhookEvent[] };
}

function toDelivery(row: typeof deliveries.$inferSelect): DeliveryRecord {
  return { ...row, event: row.event as WebhookEvent };
}

/** Webhooks and deliveries in PostgreSQL or PGlite. */
export class SqlWebhookRepository implements WebhookRepository {
  constructor(private readonly db: Db) {}

  async insert(webhook: WebhookRecord): Promise<void> {
    await this.db.insert(webhooks).values(webhook);
  }

  async list(ownerId: string): Promise<WebhookRecord[]> {
    return (await this.db.select().from(webhooks).where(eq(webhooks.ownerId, ownerId)).orderBy(asc(webhooks.createdAt))).map(toWebhook);
  }

  async find(ownerId: string, id: string): Promise<WebhookRecord | null> {
    const rows = await this.db.select().from(webhooks).where(and(eq(webhooks.ownerId, ownerId), eq(webhooks.id, id))).limit(1);
    return rows[0] ? toWebhook(rows[0]) : null;
  }

  async delete(ownerId: string, id: string): Promise<boolean> {
    const rows = await this.db.delete(webhooks).where(and(eq(webhooks.ownerId, ownerId), eq(webhooks.id, id))).returning({ id: webhooks.id });
    return rows.length > 0;
  }

  async ownerSecret(ownerId: string, create: () => string, at: Date): Promise<string> {
    await this.db.insert(ownerSecrets).values({ ownerId, secret: create(), createdAt: at }).onConflictDoNothing();
    const rows = await this.db.select().from(ownerSecrets).where(eq(ownerSecrets.ownerId, ownerId)).limit(1);
    if (!rows[0]) throw new Error(`no callback secret for ${ownerId}`);
    return rows[0].secret;
  }

  async insertDelivery(delivery: DeliveryRecord): Promise<void> {
    await this.db.insert(deliveries).values(delivery);
  }

  async claimDue(at: Date, leaseUntil: Date, limit: number): Promise<DeliveryRecord[]> {
    const due = this.db
      .select({ id: deliveries.id })
      .from(deliveries)
      .where(and(eq(deliveries.status, 'pending'), lte(deliveries.nextAttemptAt, at)))
      .orderBy(asc(deliveries.nextAttemptAt))
      .limit(limit)
      .for('update', { skipLocked: true });
    const rows = await this.db.update(deliveries).set({ nextAttemptAt: leaseUntil }).where(inArray(deliveries.id, due)).returning();
    return rows.map(toDelivery);
  }

  async startAttempt(id: string, attempt: DeliveryAttempt, retryAt: Date): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.insert(deliveryAttempts).values({ deliveryId: id, ...attempt });
      await tx.update(deliveries).set({ nextAttemptAt: retryAt, attempts: sql`${deliveries.attempts} + 1` }).where(eq(deliveries.id, id));
    });
  }

  async finishAttempt(id: string, attempt: DeliveryAttempt, next: { status: DeliveryRecord['status']; nextAttemptAt: Date | null; deliveredAt: Date | null }): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx
        .update(deliveryAttempts)
        .set({ at: attempt.at, statusCode: attempt.statusCode, error: attempt.error, durationMs: attempt.durationMs })
        .where(and(eq(deliveryAttempts.deliveryId, id), eq(deliveryAttempts.attempt, attempt.attempt)));
      await tx.update(deliveries).set({ status: next.status, nextAttemptAt: next.nextAttemptAt, deliveredAt: next.deliveredAt }).where(eq(deliveries.id, id));
    });
  }

  async giveUp(id: string): Promise<void> {
    await this.db.update(deliveries).set({ status: 'failed', nextAttemptAt: null }).where(eq(deliveries.id, id));
  }

  async deliveries(ownerId: string, by: { jobId: string } | { webhookId: string }): Promise<(DeliveryRecord & { attemptLog: DeliveryAttempt[] })[]> {
    const filter = 'jobId' in by ? eq(deliveries.jobId, by.jobId) : eq(deliveries.webhookId, by.webhookId);
    const rows = await this.db.select().from(deliveries).where(and(eq(deliveries.ownerId, ownerId), filter)).orderBy(asc(deliveries.createdAt));
    if (rows.length === 0) return [];
    const attempts = await this.db
      .select()
      .from(deliveryAttempts)
      .where(inArray(deliveryAttempts.deliveryId, rows.map((r) => r.id)))
      .orderBy(asc(deliveryAttempts.attempt));
    return rows.map((r) => ({
      ...toDelivery(r),
      attemptLog: attempts.filter((a) => a.deliveryId === r.id).map(({ deliveryId: _d, ...a }) => a),
    }));
  }
}
