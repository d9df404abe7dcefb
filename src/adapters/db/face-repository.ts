/**
 * Enrolled faces on pgvector (PostgreSQL, or PGlite with its pgvector extension). Embeddings of every model share
 * one table; each dimension gets its own HNSW index on cosine distance over `embedding::vector(N)` (partial, where
 * dims = N), created the first time a face of that size is stored, and searches use that same expression so the
 * index serves them. Searches filter by owner, collection and model: embeddings of different models never meet.
 */
import { and, count, desc, eq, sql } from 'drizzle-orm';
import type { FaceMatch, FaceRecord, FaceRepository, PersonRecord } from '../../app/ports.js';
import type { Db } from './database.js';
import { forgetPersonTraces } from './person-traces.js';
import { faceEmbeddings, persons } from './schema.js';
import { DEFAULT_VECTOR_INDEX, HnswIndexes, rowsOf, vectorTerms, type VectorIndexOptions } from './vector-sql.js';

/** Candidates fetched per requested person: several faces of one person may come first. */
const OVERFETCH = 5;

/** Faces and persons in PostgreSQL or PGlite. */
export class SqlFaceRepository implements FaceRepository {
  private readonly indexes: HnswIndexes;

  constructor(
    private readonly db: Db,
    private readonly vectors: VectorIndexOptions = DEFAULT_VECTOR_INDEX,
  ) {
    this.indexes = new HnswIndexes(db, 'face_embeddings', vectors);
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
    await this.indexes.ensure(dims);
    await this.db.insert(faceEmbeddings).values({ ...face, dims, embedding: Array.from(face.embedding) });
    await this.db.update(persons).set({ updatedAt: face.createdAt }).where(eq(persons.id, face.personId));
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

  async deleteFace(ownerId: string, personId: string, faceId: string): Promise<boolean> {
    const rows = await this.db
      .delete(faceEmbeddings)
      .where(and(eq(faceEmbeddings.ownerId, ownerId), eq(faceEmbeddings.personId, personId), eq(faceEmbeddings.id, faceId)))
      .returning({ id: faceEmbeddings.id });
    return rows.length > 0;
  }

  async search(ownerId: string, collection: string, model: string, embedding: Float32Array, limit: number): Promise<FaceMatch[]> {
    const dims = embedding.length;
    const { probe, column: cast } = vectorTerms(embedding);
    // An HNSW scan returns ef_search candidates before the owner/collection/model filter; without pgvector's
    // iterative scan a filter keeping 1/20 of the rows left ~2 of 10 results (measured). relaxed_order lets the scan go
    // on until enough rows pass; the outer ORDER BY restores the exact order.
    const rows = await this.db.transaction(async (tx) => {
      await tx.execute(sql`set local hnsw.iterative_scan = relaxed_order`);
      await tx.execute(sql.raw(`set local hnsw.ef_search = ${this.vectors.efSearch}`));
      return tx.execute<{ id: string; person_id: string; name: string; distance: number }>(sql`
      select f.id, f.person_id, p.name, f.distance from (
        select id, person_id, ${cast} <=> ${probe} as distance
        from face_embeddings
        where owner_id = ${ownerId} and collection = ${collection} and model = ${model} and dims = ${dims}
        order by ${cast} <=> ${probe}
        limit ${limit * OVERFETCH}
      ) f join persons p on p.id = f.person_id
      order by f.distance`);
    });
    const best = new Map<string, FaceMatch>();
    for (const r of rowsOf<{ id: string; person_id: string; name: string; distance: number }>(rows)) {
      if (!best.has(r.person_id)) best.set(r.person_id, { personId: r.person_id, personName: r.name, faceId: r.id, similarity: 1 - Number(r.distance) });
    }
    return [...best.values()].slice(0, limit);
  }
}
