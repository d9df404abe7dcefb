/**
 * Enrolled faces on pgvector (PostgreSQL, or PGlite with its pgvector extension). Embeddings of every model share
 * one table, and every search is scoped: one owner's collection, one model, one embedding size (a scope; embeddings
 * of different models never meet). A scope below `exactBelow` faces is searched exactly (a scan of its rows through
 * the scope's B-tree index, faster than a graph at that size, and complete); once it reaches that size it gets its
 * own partial HNSW index on half-precision vectors, built in the background, and its searches take the index's
 * candidates and re-rank them at full precision. An index per scope rather than one per size: a shared graph filtered
 * down to one collection of many finds few of its rows (measured: ~2 of 10 at 1/20), or scans long with
 * pgvector's iterative scan.
 */
import { and, count, desc, eq, sql } from 'drizzle-orm';
import type { FaceMatch, FaceRecord, FaceRepository, PersonRecord } from '../../app/ports.js';
import type { Db } from './database.js';
import { forgetPersonTraces } from './person-traces.js';
import { faceEmbeddings, persons } from './schema.js';
import { DEFAULT_VECTOR_INDEX, literalOf, rowsOf, scopeIndexName, scopeIndexSql, vectorLiteral, type FaceScope, type VectorIndexOptions } from './vector-sql.js';

/** Candidates fetched per requested person: several faces of one person may come first. */
const OVERFETCH = 5;
/** How often a process re-counts a scope it only searches (another process may have filled or indexed it). */
const RECOUNT_MS = 60_000;

/** What this process knows of a scope's own index. */
type ScopeState = { readonly kind: 'indexed' } | { readonly kind: 'building' } | { readonly kind: 'small'; readonly at: number; skip: number };

/** Faces and persons in PostgreSQL or PGlite. */
export class SqlFaceRepository implements FaceRepository {
  private readonly scopes = new Map<string, ScopeState>();
  private readonly builds = new Set<Promise<void>>();
  private readonly exactBelow: number;

  constructor(
    private readonly db: Db,
    private readonly vectors: VectorIndexOptions = DEFAULT_VECTOR_INDEX,
    /** PostgreSQL builds a scope's index CONCURRENTLY (enrollment goes on meanwhile); PGlite has one connection. */
    private readonly kind: 'postgres' | 'pglite' = 'postgres',
    /** Told when a background index build fails (it is retried on a later enrollment or search). */
    private readonly onIndexError: (err: unknown) => void = () => undefined,
  ) {
    this.exactBelow = vectors.exactBelow ?? DEFAULT_VECTOR_INDEX.exactBelow;
  }

  /** Waits for the background work started so far: scope counts and index builds (tests, the bench, shutdown). */
  async settled(): Promise<void> {
    while (this.builds.size > 0) await Promise.all([...this.builds]);
  }

  /** Whether this process knows that the scope has its own HNSW index (searches then use it). */
  indexed(scope: FaceScope): boolean {
    return this.scopes.get(scopeIndexName(scope))?.kind === 'indexed';
  }

  /**
   * Counts the scope's faces (at most `exactBelow` of them, so the count costs no more than one exact search) and
   * starts building its index once it is that large. After a count of c, the next (exactBelow - c) / 4 enrollments
   * in this process skip it; a search re-counts at most once a minute.
   */
  private async watch(scope: FaceScope, enrolling: boolean): Promise<void> {
    const key = scopeIndexName(scope);
    const state = this.scopes.get(key);
    if (state?.kind === 'indexed' || state?.kind === 'building') return;
    if (state?.kind === 'small') {
      if (enrolling && state.skip-- > 0) return;
      if (!enrolling && Date.now() - state.at < RECOUNT_MS) return;
    }
    const f = faceEmbeddings;
    const rows = await this.db.execute<{ n: number }>(sql`select count(*)::int as n from (
      select 1 from ${f} where ${f.ownerId} = ${scope.ownerId} and ${f.collection} = ${scope.collection} and ${f.model} = ${scope.model} and ${f.dims} = ${scope.dims}
      limit ${this.exactBelow}) s`);
    const n = Number(rowsOf<{ n: number }>(rows)[0]?.n ?? 0);
    if (n < this.exactBelow) {
      this.scopes.set(key, { kind: 'small', at: Date.now(), skip: Math.floor((this.exactBelow - n) / 4) });
      return;
    }
    this.scopes.set(key, { kind: 'building' });
    this.background(
      this.db.execute(sql.raw(scopeIndexSql(scope, this.vectors, this.kind === 'postgres'))).then(
        () => void this.scopes.set(key, { kind: 'indexed' }),
        (err: unknown) => {
          this.scopes.delete(key);
          throw err;
        },
      ),
    );
  }

  /** Runs `work` without waiting for it; `settled()` waits for it, and a failure goes to `onIndexError`. */
  private background(work: Promise<unknown>): void {
    const done: Promise<void> = work.then(
      () => undefined,
      (err: unknown) => this.onIndexError(err),
    );
    const tracked = done.finally(() => this.builds.delete(tracked));
    this.builds.add(tracked);
  }

  async createPerson(person: PersonRecord): Promise<void> {
    await this.db.insert(persons).values(person);
  }

  async findPerson(ownerId: string, id: string): Promise<PersonRecord | null> {
    const rows = await this.db.select().from(persons).where(and(eq(persons.ownerId, ownerId), eq(persons.id, id))).limit(1);
    return rows[0] ?? null;
  }

  async findPersonByName(ownerId: string, collection: string, name: string): Promise<PersonRecord | null> {
    const rows = await this.db
      .select()
      .from(persons)
      .where(and(eq(persons.ownerId, ownerId), eq(persons.collection, collection), eq(persons.name, name)))
      .orderBy(persons.createdAt)
      .limit(1);
    return rows[0] ?? null;
  }

  async listCollections(ownerId: string): Promise<{ collection: string; persons: number; faces: number }[]> {
    const faceCount = sql<number>`(select count(*) from face_embeddings fe where fe.owner_id = ${ownerId} and fe.collection = "persons"."collection")`.mapWith(Number);
    const rows = await this.db
      .select({ collection: persons.collection, persons: count(), faces: faceCount })
      .from(persons)
      .where(eq(persons.ownerId, ownerId))
      .groupBy(persons.collection)
      .orderBy(persons.collection);
    return rows.map((r) => ({ collection: r.collection, persons: Number(r.persons), faces: Number(r.faces) }));
  }

  async listPersons(ownerId: string, query: { collection?: string; limit: number; offset: number }): Promise<{ items: (PersonRecord & { faceCount: number })[]; total: number }> {
    const where = and(eq(persons.ownerId, ownerId), query.collection ? eq(persons.collection, query.collection) : undefined);
    // Spelled out: Drizzle would render the outer column unqualified, and it would bind to the inner table.
    const faceCount = sql<number>`(select count(*) from face_embeddings fe where fe.person_id = "persons"."id")`.mapWith(Number);
    const [rows, totals] = await Promise.all([
      this.db.select({ person: persons, faceCount }).from(persons).where(where).orderBy(desc(persons.createdAt), persons.id).limit(query.limit).offset(query.offset),
      this.db.select({ n: count() }).from(persons).where(where),
    ]);
    return { items: rows.map((r) => ({ ...r.person, faceCount: r.faceCount })), total: Number(totals[0]?.n ?? 0) };
  }

  async deletePerson(ownerId: string, id: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      // Embeddings go with the person (foreign key cascade); their matches in stored results go with them too.
      const rows = await tx.delete(persons).where(and(eq(persons.ownerId, ownerId), eq(persons.id, id))).returning({ id: persons.id });
      if (rows.length === 0) return false;
      await forgetPersonTraces(tx, ownerId, id);
      return true;
    });
  }

  async addFace(face: FaceRecord): Promise<void> {
    const dims = face.embedding.length;
    if (!Number.isInteger(dims) || dims < 1 || dims > 4000) throw new Error(`bad embedding size ${dims}`);
    await this.db.insert(faceEmbeddings).values({ ...face, dims, embedding: Array.from(face.embedding) });
    await this.db.update(persons).set({ updatedAt: face.createdAt }).where(eq(persons.id, face.personId));
    await this.watch({ ownerId: face.ownerId, collection: face.collection, model: face.model, dims }, true);
  }

  async facesOf(ownerId: string, personId: string): Promise<Omit<FaceRecord, 'embedding'>[]> {
    const f = faceEmbeddings;
    const rows = await this.db
      .select({ id: f.id, ownerId: f.ownerId, personId: f.personId, collection: f.collection, model: f.model, mediaId: f.mediaId, box: f.box, quality: f.quality, createdAt: f.createdAt })
      .from(faceEmbeddings)
      .where(and(eq(faceEmbeddings.ownerId, ownerId), eq(faceEmbeddings.personId, personId)))
      .orderBy(faceEmbeddings.createdAt);
    return rows;
  }

  async faceThumbnail(ownerId: string, personId: string, faceId: string): Promise<Uint8Array | null> {
    const f = faceEmbeddings;
    const rows = await this.db
      .select({ thumbnail: f.thumbnail })
      .from(f)
      .where(and(eq(f.ownerId, ownerId), eq(f.personId, personId), eq(f.id, faceId)));
    return rows[0]?.thumbnail ?? null;
  }

  async deleteFace(ownerId: string, personId: string, faceId: string): Promise<boolean> {
    const rows = await this.db
      .delete(faceEmbeddings)
      .where(and(eq(faceEmbeddings.ownerId, ownerId), eq(faceEmbeddings.personId, personId), eq(faceEmbeddings.id, faceId)))
      .returning({ id: faceEmbeddings.id });
    return rows.length > 0;
  }

  async search(ownerId: string, collection: string, model: string, embedding: Float32Array, limit: number): Promise<FaceMatch[]> {
    const scope: FaceScope = { ownerId, collection, model, dims: embedding.length };
    if (!Number.isInteger(scope.dims) || scope.dims < 1 || scope.dims > 4000) return [];
    // Learns (in the background, at most once a minute) when another process filled or indexed the scope.
    this.background(this.watch(scope, false));
    const rows = this.indexed(scope) ? await this.approximate(scope, embedding, limit * OVERFETCH) : await this.exact(scope, embedding, limit * OVERFETCH);
    const best = new Map<string, FaceMatch>();
    for (const r of rows) {
      if (!best.has(r.person_id)) best.set(r.person_id, { personId: r.person_id, personName: r.name, faceId: r.id, similarity: 1 - Number(r.distance) });
    }
    return [...best.values()].slice(0, limit);
  }

  /** The scope's `n` nearest faces, all of its rows compared at full precision. */
  async exact(scope: FaceScope, embedding: Float32Array, n: number): Promise<Candidate[]> {
    const probe = sql.raw(`'${vectorLiteral(embedding)}'::vector(${scope.dims})`);
    // Full precision on purpose: no halfvec index is on this expression, and casting every row to halfvec costs more
    // than the distance itself.
    const column = sql.raw(`embedding::vector(${scope.dims})`);
    return rowsOf<Candidate>(
      await this.db.execute(sql`
      select f.id, f.person_id, p.name, f.distance from (
        select id, person_id, ${column} <=> ${probe} as distance
        from face_embeddings
        where owner_id = ${scope.ownerId} and collection = ${scope.collection} and model = ${scope.model} and dims = ${scope.dims}
        order by 3
        limit ${n}
      ) f join persons p on p.id = f.person_id
      order by f.distance`),
    );
  }

  /** The scope's `n` nearest faces by its own HNSW index (half precision), re-ranked at full precision. */
  async approximate(scope: FaceScope, embedding: Float32Array, n: number): Promise<Candidate[]> {
    const literal = `'${vectorLiteral(embedding)}'`;
    const d = String(scope.dims);
    const efSearch = `set local hnsw.ef_search = ${Math.max(this.vectors.efSearch, n)}`;
    // The filter repeats the partial index's predicate word for word: the index then holds only this scope's rows.
    const query = `
      select c.id, c.person_id, p.name, c.embedding::vector(${d}) <=> ${literal}::vector(${d}) as distance from (
        select id, person_id, embedding
        from face_embeddings
        where owner_id = ${literalOf(scope.ownerId)} and collection = ${literalOf(scope.collection)} and model = ${literalOf(scope.model)} and dims = ${d}
        order by embedding::halfvec(${d}) <=> ${literal}::halfvec(${d})
        limit ${Math.trunc(n)}
      ) c join persons p on p.id = c.person_id
      order by 4`;
    if (this.kind === 'postgres') {
      // One round trip instead of four (BEGIN, SET, SELECT, COMMIT): statements sent together in one simple query run
      // as one implicit transaction, which SET LOCAL lasts until. Every value is a literal, so none is a parameter.
      const results: unknown = await this.db.execute(sql.raw(`${efSearch};${query}`));
      return rowsOf<Candidate>(Array.isArray(results) ? results.at(-1) : results);
    }
    return rowsOf<Candidate>(
      await this.db.transaction(async (tx) => {
        await tx.execute(sql.raw(efSearch));
        return tx.execute(sql.raw(query));
      }),
    );
  }
}

/** A face found by a search, with its person's name and its cosine distance to the probe. */
interface Candidate {
  id: string;
  person_id: string;
  name: string;
  distance: number;
}
