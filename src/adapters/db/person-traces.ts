/**
 * The places outside the face tables where a person's id and name are kept: job items and results, stored SSE
 * events, analyses stored with media, and delivery bodies (signed when sent, so a queued one goes out scrubbed).
 * Deleting a person runs this in the same transaction, so nothing of them survives the delete.
 */
import { and, eq, sql } from 'drizzle-orm';
import { withoutPerson } from '../../domain/faces/forget-person.js';
import type { Db } from './database.js';
import { deliveries, jobEvents, jobs, mediaAnalyses } from './schema.js';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** Removes every match naming `personId` from the owner's stored JSON; returns how many rows changed. */
export async function forgetPersonTraces(tx: Tx, ownerId: string, personId: string): Promise<number> {
  // The id is a UUID (validated by the route), so a LIKE on the JSON text finds exactly the rows that mention it.
  const mentions = `%${personId}%`;
  let changed = 0;

  const jobRows = await tx
    .select({ id: jobs.id, items: jobs.items, result: jobs.result })
    .from(jobs)
    .where(and(eq(jobs.ownerId, ownerId), sql`(${jobs.items}::text like ${mentions} or ${jobs.result}::text like ${mentions})`));
  for (const row of jobRows) {
    await tx.update(jobs).set({ items: withoutPerson(row.items, personId).value, result: withoutPerson(row.result, personId).value }).where(eq(jobs.id, row.id));
    changed++;
  }

  const eventRows = await tx
    .select({ seq: jobEvents.seq, data: jobEvents.data })
    .from(jobEvents)
    .innerJoin(jobs, eq(jobs.id, jobEvents.jobId))
    .where(and(eq(jobs.ownerId, ownerId), sql`${jobEvents.data}::text like ${mentions}`));
  for (const row of eventRows) {
    await tx.update(jobEvents).set({ data: withoutPerson(row.data, personId).value }).where(eq(jobEvents.seq, row.seq));
    changed++;
  }

  const analysisRows = await tx
    .select({ mediaId: mediaAnalyses.mediaId, task: mediaAnalyses.task, result: mediaAnalyses.result })
    .from(mediaAnalyses)
    .where(and(eq(mediaAnalyses.ownerId, ownerId), sql`${mediaAnalyses.result}::text like ${mentions}`));
  for (const row of analysisRows) {
    const where = and(eq(mediaAnalyses.ownerId, ownerId), eq(mediaAnalyses.mediaId, row.mediaId), eq(mediaAnalyses.task, row.task));
    await tx.update(mediaAnalyses).set({ result: withoutPerson(row.result, personId).value }).where(where);
    changed++;
  }

  const deliveryRows = await tx
    .select({ id: deliveries.id, payload: deliveries.payload })
    .from(deliveries)
    .where(and(eq(deliveries.ownerId, ownerId), sql`${deliveries.payload} like ${mentions}`));
  for (const row of deliveryRows) {
    await tx.update(deliveries).set({ payload: JSON.stringify(withoutPerson(JSON.parse(row.payload) as unknown, personId).value) }).where(eq(deliveries.id, row.id));
    changed++;
  }
  return changed;
}
