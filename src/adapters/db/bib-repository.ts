/**
 * The bib index in PostgreSQL or PGlite: bib sightings and media faces per stored medium (both deleted with the
 * medium), a bib lookup, and a pgvector search for faces that look like a bib carrier's.
 */
import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import type { BibMediaHit, BibRepository, BibSightingRecord, MediaFaceRecord, SimilarMediaFace } from '../../app/ports.js';
import type { Box } from '../../domain/geometry.js';
import type { Db } from './database.js';
import { bibSightings, mediaFaces } from './schema.js';
import { DEFAULT_VECTOR_INDEX, HnswIndexes, rowsOf, vectorTerms, type VectorIndexOptions } from './vector-sql.js';

/** The media_faces rows of one medium's faces. */
function faceRows(ownerId: string, mediaId: string, faces: readonly MediaFaceRecord[], at: Date) {
  return faces.map((f) => ({ ...f, id: f.id || randomUUID(), ownerId, mediaId, dims: f.embedding.length, embedding: Array.from(f.embedding), createdAt: at }));
}

/** Bib sightings and media faces. */
export class SqlBibRepository implements BibRepository {
  private readonly indexes: HnswIndexes;

  constructor(
    private readonly db: Db,
    private readonly vectors: VectorIndexOptions = DEFAULT_VECTOR_INDEX,
  ) {
    this.indexes = new HnswIndexes(db, 'media_faces', vectors);
  }

  async replaceForMedia(ownerId: string, mediaId: string, bibs: readonly BibSightingRecord[], faces: readonly MediaFaceRecord[], at: Date): Promise<void> {
    for (const dims of new Set(faces.map((f) => f.embedding.length))) await this.indexes.ensure(dims);
    await this.db.transaction(async (tx) => {
      await tx.delete(bibSightings).where(and(eq(bibSightings.ownerId, ownerId), eq(bibSightings.mediaId, mediaId)));
      await tx.delete(mediaFaces).where(and(eq(mediaFaces.ownerId, ownerId), eq(mediaFaces.mediaId, mediaId)));
      if (bibs.length) await tx.insert(bibSightings).values(bibs.map((b) => ({ ...b, ownerId, mediaId, createdAt: at })));
      if (faces.length) {
        await tx.insert(mediaFaces).values(faceRows(ownerId, mediaId, faces, at));
      }
    });
  }

  async addFacesOnce(ownerId: string, mediaId: string, faces: readonly MediaFaceRecord[], at: Date): Promise<boolean> {
    if (faces.length === 0) return false;
    for (const dims of new Set(faces.map((f) => f.embedding.length))) await this.indexes.ensure(dims);
    return this.db.transaction(async (tx) => {
      const held = await tx.select({ id: mediaFaces.id }).from(mediaFaces).where(and(eq(mediaFaces.ownerId, ownerId), eq(mediaFaces.mediaId, mediaId))).limit(1);
      if (held.length > 0) return false;
      await tx.insert(mediaFaces).values(faceRows(ownerId, mediaId, faces, at));
      return true;
    });
  }

  async mediaWithBib(ownerId: string, number: string): Promise<BibMediaHit[]> {
    // The best reading per medium, with how often the number was read there (video frames read it many times).
    const rows = rowsOf<{ media_id: string; name: string; kind: 'image' | 'video'; confidence: number; sightings: number; box: Box; frame_index: number | null; timestamp: number | null }>(
      await this.db.execute(sql`
        select distinct on (b.media_id) b.media_id, m.name, m.kind, b.confidence, b.box, b.frame_index, b.timestamp,
          count(*) over (partition by b.media_id)::int as sightings
        from bib_sightings b join media m on m.owner_id = b.owner_id and m.id = b.media_id
        where b.owner_id = ${ownerId} and b.number = ${number}
        order by b.media_id, b.confidence desc`),
    );
    return rows
      .map((r) => ({
        mediaId: r.media_id,
        name: r.name,
        kind: r.kind,
        confidence: Number(r.confidence),
        sightings: Number(r.sightings),
        box: r.box,
        frameIndex: r.frame_index,
        timestamp: r.timestamp === null ? null : Number(r.timestamp),
      }))
      .sort((a, b) => b.confidence - a.confidence);
  }

  async facesWithBib(ownerId: string, number: string): Promise<{ id: string; mediaId: string; model: string; embedding: Float32Array }[]> {
    const rows = await this.db
      .select({ id: mediaFaces.id, mediaId: mediaFaces.mediaId, model: mediaFaces.model, embedding: mediaFaces.embedding })
      .from(mediaFaces)
      .where(and(eq(mediaFaces.ownerId, ownerId), eq(mediaFaces.bibNumber, number)));
    return rows.map((r) => ({ ...r, embedding: Float32Array.from(r.embedding) }));
  }

  async similarFaces(ownerId: string, model: string, embedding: Float32Array, minSimilarity: number, limit: number): Promise<SimilarMediaFace[]> {
    const dims = embedding.length;
    const { probe, column } = vectorTerms(embedding);
    const maxDistance = 1 - minSimilarity;
    const rows = await this.db.transaction(async (tx) => {
      // As for enrolled faces: the owner/model filter needs the iterative scan to return enough rows.
      await tx.execute(sql`set local hnsw.iterative_scan = relaxed_order`);
      await tx.execute(sql.raw(`set local hnsw.ef_search = ${this.vectors.efSearch}`));
      return tx.execute(sql`
        select f.id, f.media_id, m.name, m.kind, f.box, f.frame_index, f.timestamp, f.distance from (
          select id, media_id, box, frame_index, timestamp, owner_id, ${column} <=> ${probe} as distance
          from media_faces
          where owner_id = ${ownerId} and model = ${model} and dims = ${dims}
          order by ${column} <=> ${probe}
          limit ${limit}
        ) f join media m on m.owner_id = f.owner_id and m.id = f.media_id
        where f.distance <= ${maxDistance}
        order by f.distance`);
    });
    return rowsOf<{ id: string; media_id: string; name: string; kind: 'image' | 'video'; box: Box; frame_index: number | null; timestamp: number | null; distance: number }>(rows).map(
      (r) => ({
        mediaId: r.media_id,
        name: r.name,
        kind: r.kind,
        faceId: r.id,
        box: r.box,
        similarity: 1 - Number(r.distance),
        frameIndex: r.frame_index,
        timestamp: r.timestamp === null ? null : Number(r.timestamp),
      }),
    );
  }
}
