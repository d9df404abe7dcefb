import { and, asc, count, desc, eq, gt, gte, inArray, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import type { JobFrame, JobFrameQuery, JobPatch, JobRecord, JobRepository } from '../../app/ports.js';
import type { AiSettings } from '../../domain/ai-settings.js';
import type { JobEvent, JobInput, JobKind, JobStatus, JobTask } from '../../domain/job.js';
import type { Db } from './database.js';
import { jobEvents, jobFrames, jobs } from './schema.js';

type Row = typeof jobs.$inferSelect;

function toRecord(row: Row): JobRecord {
  return {
    id: row.id,
    ownerId: row.ownerId,
    kind: row.kind,
    inputs: row.inputs as JobInput[],
    tasks: row.tasks as JobTask[],
    settings: row.settings as unknown as AiSettings,
    status: row.status,
    progress: { done: row.progressDone, total: row.progressTotal },
    items: row.items as (Record<string, unknown> | null)[],
    result: row.result ?? null,
    error: row.error,
    attempts: row.attempts,
    maxAttempts: row.maxAttempts,
    callbackUrl: row.callbackUrl,
    options: row.options,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
  };
}

const LIVE: JobStatus[] = ['queued', 'running'];

/** Jobs and job events in PostgreSQL or PGlite. */
export class SqlJobRepository implements JobRepository {
  constructor(private readonly db: Db) {}

  async insert(job: JobRecord): Promise<void> {
    await this.db.insert(jobs).values({
      id: job.id,
      ownerId: job.ownerId,
      kind: job.kind,
      inputs: job.inputs,
      tasks: job.tasks,
      settings: job.settings,
      status: job.status,
      progressDone: job.progress.done,
      progressTotal: job.progress.total,
      items: job.items,
      result: job.result,
      error: job.error,
      attempts: job.attempts,
      maxAttempts: job.maxAttempts,
      callbackUrl: job.callbackUrl,
      options: { ...job.options },
      createdAt: job.createdAt,
      updatedAt: job.updatedAt,
      startedAt: job.startedAt,
      finishedAt: job.finishedAt,
    });
  }

  async find(ownerId: string, id: string): Promise<JobRecord | null> {
    const rows = await this.db.select().from(jobs).where(and(eq(jobs.ownerId, ownerId), eq(jobs.id, id))).limit(1);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async get(id: string): Promise<JobRecord | null> {
    const rows = await this.db.select().from(jobs).where(eq(jobs.id, id)).limit(1);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async list(ownerId: string, query: { status?: JobStatus; limit: number; offset: number }): Promise<{ items: JobRecord[]; total: number }> {
    const filters: SQL[] = [eq(jobs.ownerId, ownerId)];
    if (query.status) filters.push(eq(jobs.status, query.status));
    const where = and(...filters);
    const [rows, totals] = await Promise.all([
      this.db.select().from(jobs).where(where).orderBy(desc(jobs.createdAt), jobs.id).limit(query.limit).offset(query.offset),
      this.db.select({ n: count() }).from(jobs).where(where),
    ]);
    return { items: rows.map(toRecord), total: Number(totals[0]?.n ?? 0) };
  }

  async claimNext(at: Date): Promise<JobRecord | null> {
    // SKIP LOCKED lets several runners (or worker processes) claim different jobs at once.
    const next = this.db
      .select({ id: jobs.id })
      .from(jobs)
      .where(eq(jobs.status, 'queued'))
      .orderBy(asc(jobs.createdAt), asc(jobs.id))
      .limit(1)
      .for('update', { skipLocked: true });
    const rows = await this.db
      .update(jobs)
      .set({ status: 'running', attempts: sql`${jobs.attempts} + 1`, startedAt: sql`coalesce(${jobs.startedAt}, ${at})`, updatedAt: at })
      .where(inArray(jobs.id, next))
      .returning();
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async recover(at: Date): Promise<{ requeued: number; failed: JobRecord[] }> {
    const failed = await this.db
      .update(jobs)
      .set({
        status: 'failed',
        error: sql`'the worker stopped ' || ${jobs.attempts} || ' time(s) while running this job; giving up'`,
        finishedAt: at,
        updatedAt: at,
      })
      .where(and(eq(jobs.status, 'running'), sql`${jobs.attempts} >= ${jobs.maxAttempts}`))
      .returning();
    const requeued = await this.db.update(jobs).set({ status: 'queued', updatedAt: at }).where(eq(jobs.status, 'running')).returning({ id: jobs.id });
    return { requeued: requeued.length, failed: failed.map(toRecord) };
  }

  async claim(id: string, at: Date): Promise<JobRecord | null> {
    const rows = await this.db
      .update(jobs)
      .set({ status: 'running', attempts: sql`${jobs.attempts} + 1`, startedAt: sql`coalesce(${jobs.startedAt}, ${at})`, updatedAt: at })
      .where(and(eq(jobs.id, id), inArray(jobs.status, LIVE)))
      .returning();
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async idle(status: 'queued' | 'running', before: Date, limit: number): Promise<JobRecord[]> {
    const rows = await this.db
      .select()
      .from(jobs)
      .where(and(eq(jobs.status, status), lt(jobs.updatedAt, before)))
      .orderBy(asc(jobs.updatedAt))
      .limit(limit);
    return rows.map(toRecord);
  }

  async stateCounts(since: Date): Promise<{ kind: JobKind; status: JobStatus; count: number }[]> {
    const rows = await this.db
      .select({ kind: jobs.kind, status: jobs.status, count: count() })
      .from(jobs)
      .where(or(inArray(jobs.status, LIVE), gt(jobs.finishedAt, since)))
      .groupBy(jobs.kind, jobs.status);
    return rows.map((r) => ({ kind: r.kind, status: r.status, count: Number(r.count) }));
  }

  async requeue(id: string, at: Date): Promise<boolean> {
    const rows = await this.db.update(jobs).set({ status: 'queued', updatedAt: at }).where(and(eq(jobs.id, id), eq(jobs.status, 'running'))).returning({ id: jobs.id });
    return rows.length > 0;
  }

  async update(id: string, patch: JobPatch, at: Date, attempt?: number): Promise<boolean> {
    const set: Partial<typeof jobs.$inferInsert> = { updatedAt: at };
    if (patch.status) set.status = patch.status;
    if (patch.progress) {
      set.progressDone = patch.progress.done;
      set.progressTotal = patch.progress.total;
    }
    if (patch.items) set.items = patch.items;
    if (patch.result !== undefined) set.result = patch.result;
    if (patch.error !== undefined) set.error = patch.error;
    if (patch.finishedAt !== undefined) set.finishedAt = patch.finishedAt;
    const filters = [eq(jobs.id, id), eq(jobs.status, 'running')];
    if (attempt !== undefined) filters.push(eq(jobs.attempts, attempt));
    const rows = await this.db.update(jobs).set(set).where(and(...filters)).returning({ id: jobs.id });
    return rows.length > 0;
  }

  async setInputs(id: string, inputs: JobInput[], at: Date): Promise<void> {
    await this.db.update(jobs).set({ inputs, updatedAt: at }).where(eq(jobs.id, id));
  }

  async release(id: string, at: Date): Promise<void> {
    await this.db
      .update(jobs)
      .set({ status: 'queued', attempts: sql`greatest(${jobs.attempts} - 1, 0)`, updatedAt: at })
      .where(and(eq(jobs.id, id), eq(jobs.status, 'running')));
  }

  async restart(id: string, change: Pick<JobRecord, 'inputs' | 'tasks' | 'options' | 'callbackUrl'>, at: Date): Promise<JobRecord | null> {
    const rows = await this.db.transaction(async (tx) => {
      await tx.delete(jobEvents).where(eq(jobEvents.jobId, id));
      await tx.delete(jobFrames).where(eq(jobFrames.jobId, id));
      return tx
        .update(jobs)
        .set({
          status: 'queued',
          inputs: change.inputs,
          tasks: change.tasks,
          options: { ...change.options },
          callbackUrl: change.callbackUrl,
          progressDone: 0,
          progressTotal: 0,
          items: change.inputs.map(() => null),
          result: null,
          error: null,
          finishedAt: null,
          updatedAt: at,
        })
        .where(and(eq(jobs.id, id), inArray(jobs.status, LIVE)))
        .returning();
    });
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async delete(id: string): Promise<void> {
    await this.db.delete(jobs).where(eq(jobs.id, id));
  }

  async cancel(ownerId: string, id: string, at: Date): Promise<JobRecord | null> {
    await this.db
      .update(jobs)
      .set({ status: 'cancelled', error: 'cancelled', finishedAt: at, updatedAt: at })
      .where(and(eq(jobs.ownerId, ownerId), eq(jobs.id, id), inArray(jobs.status, LIVE)));
    return this.find(ownerId, id);
  }

  async appendEvent(jobId: string, type: JobEvent['type'], data: Record<string, unknown>, at: Date): Promise<JobEvent | null> {
    if (type === 'status') {
      const rows = await this.db.insert(jobEvents).values({ jobId, type, data, createdAt: at }).returning({ seq: jobEvents.seq });
      return { seq: Number(rows[0]?.seq), type, data };
    }
    // Stored only while the job runs, in one statement: a cancellation never races a late frame into the stream.
    const rows = await this.db.execute<{ seq: string | number }>(sql`
      insert into ${jobEvents} (job_id, type, data, created_at)
      select ${jobId}, ${type}, ${JSON.stringify(data)}::jsonb, ${at.toISOString()}::timestamptz
      where exists (select 1 from ${jobs} where ${jobs.id} = ${jobId} and ${jobs.status} = 'running')
      returning seq`);
    const seq = (rows as { rows: { seq: string | number }[] }).rows[0]?.seq;
    return seq === undefined ? null : { seq: Number(seq), type, data };
  }

  async appendEvents(jobId: string, events: readonly Pick<JobEvent, 'type' | 'data'>[], at: Date): Promise<JobEvent[] | null> {
    if (events.some((e) => e.type === 'status')) throw new Error('status events are stored one at a time (appendEvent)');
    if (events.length === 0) return [];
    // One statement for the batch, fenced like appendEvent. Rows are inserted in the batch's order (order by n), so
    // their sequence numbers rise in that order; the returned rows are matched to the events by sorting them.
    const batch = JSON.stringify(events.map((e, n) => ({ n, type: e.type, data: e.data })));
    const rows = await this.db.execute<{ seq: string | number }>(sql`
      insert into ${jobEvents} (job_id, type, data, created_at)
      select ${jobId}, e.type, e.data, ${at.toISOString()}::timestamptz
      from jsonb_to_recordset(${batch}::jsonb) as e(n integer, type text, data jsonb)
      where exists (select 1 from ${jobs} where ${jobs.id} = ${jobId} and ${jobs.status} = 'running')
      order by e.n
      returning seq`);
    const seqs = (rows as { rows: { seq: string | number }[] }).rows.map((r) => Number(r.seq)).sort((a, b) => a - b);
    if (seqs.length !== events.length) return null;
    return events.map((e, n) => ({ seq: seqs[n] as number, type: e.type, data: e.data }));
  }

  async events(jobId: string, afterSeq: number): Promise<JobEvent[]> {
    const rows = await this.db
      .select()
      .from(jobEvents)
      .where(and(eq(jobEvents.jobId, jobId), gt(jobEvents.seq, afterSeq)))
      .orderBy(asc(jobEvents.seq));
    return rows.map((r) => ({ seq: Number(r.seq), type: r.type as JobEvent['type'], data: r.data }));
  }

  async putFrames(jobId: string, attempt: number, frames: readonly JobFrame[]): Promise<boolean> {
    if (frames.length === 0) return this.runs(jobId, attempt);
    // The batch travels as one jsonb value: one round trip and one statement, whatever the batch size, and the
    // fence (still running this attempt) is checked in the same statement, so a run that was taken over stores nothing.
    const batch = JSON.stringify(frames.map((f) => ({ index: f.index, timestamp: f.timestamp, data: f.data })));
    const rows = await this.db.execute<{ index: number }>(sql`
      insert into ${jobFrames} (job_id, index, timestamp, data)
      select ${jobId}, f."index", f."timestamp", f.data
      from jsonb_to_recordset(${batch}::jsonb) as f("index" integer, "timestamp" double precision, data jsonb)
      where exists (select 1 from ${jobs} where ${jobs.id} = ${jobId} and ${jobs.status} = 'running' and ${jobs.attempts} = ${attempt})
      on conflict (job_id, index) do update set timestamp = excluded.timestamp, data = excluded.data
      returning index`);
    return (rows as { rows: unknown[] }).rows.length > 0;
  }

  async clearFrames(jobId: string, attempt: number): Promise<boolean> {
    const rows = await this.db.execute<{ n: number | string }>(sql`
      with fence as (select ${jobs.id} as id from ${jobs} where ${jobs.id} = ${jobId} and ${jobs.status} = 'running' and ${jobs.attempts} = ${attempt}),
      gone as (delete from ${jobFrames} where ${jobFrames.jobId} in (select id from fence))
      select count(*) as n from fence`);
    return Number((rows as { rows: { n: number | string }[] }).rows[0]?.n ?? 0) > 0;
  }

  async frames(jobId: string, query: JobFrameQuery): Promise<JobFrame[]> {
    const filters: SQL[] = [eq(jobFrames.jobId, jobId)];
    if (query.after !== undefined) filters.push(gt(jobFrames.index, query.after));
    if (query.from !== undefined) filters.push(gte(jobFrames.timestamp, query.from));
    if (query.to !== undefined) filters.push(lte(jobFrames.timestamp, query.to));
    const rows = await this.db
      .select()
      .from(jobFrames)
      .where(and(...filters))
      .orderBy(asc(jobFrames.index))
      .limit(query.limit);
    return rows.map((r) => ({ index: r.index, timestamp: r.timestamp, data: r.data }));
  }

  /** True while the job is running `attempt`. */
  private async runs(jobId: string, attempt: number): Promise<boolean> {
    const rows = await this.db
      .select({ id: jobs.id })
      .from(jobs)
      .where(and(eq(jobs.id, jobId), eq(jobs.status, 'running'), eq(jobs.attempts, attempt)))
      .limit(1);
    return rows.length > 0;
  }
}
