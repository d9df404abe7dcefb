/**
 * pgvector helpers shared by the face tables: vector literals, per-dimension HNSW indexes and the rows of a raw
 * query. Embeddings of every size share one `vector` column; each size gets its own partial HNSW index over
 * `embedding::vector(N)` (where dims = N), and searches use that same expression so the index serves them.
 */
import { sql } from 'drizzle-orm';
import type { Db } from './database.js';

/** A pgvector literal of an embedding. */
export function vectorLiteral(v: Float32Array): string {
  return `[${Array.from(v).join(',')}]`;
}

/** The probe and column expressions of a search over `dims`-sized embeddings. */
export function vectorTerms(embedding: Float32Array): { probe: ReturnType<typeof sql.raw>; column: ReturnType<typeof sql.raw> } {
  const dims = embedding.length;
  return { probe: sql.raw(`'${vectorLiteral(embedding)}'::vector(${dims})`), column: sql.raw(`embedding::vector(${dims})`) };
}

/** Creates (once per process and table; IF NOT EXISTS across processes) the HNSW cosine index for one size. */
export class HnswIndexes {
  private readonly made = new Set<number>();

  constructor(
    private readonly db: Db,
    private readonly table: 'face_embeddings' | 'media_faces',
  ) {}

  /** Makes sure the index for `dims` exists. */
  async ensure(dims: number): Promise<void> {
    if (this.made.has(dims)) return;
    if (!Number.isInteger(dims) || dims < 1 || dims > 16_000) throw new Error(`bad embedding size ${dims}`);
    await this.db.execute(
      sql.raw(`create index if not exists ${this.table}_hnsw_${dims} on ${this.table} using hnsw ((embedding::vector(${dims})) vector_cosine_ops) where dims = ${dims}`),
    );
    this.made.add(dims);
  }
}

/** node-postgres answers `{ rows }`, PGlite's driver the same shape; both through Drizzle's execute. */
export function rowsOf<T>(result: unknown): T[] {
  return (result as { rows?: T[] }).rows ?? (result as T[]);
}
