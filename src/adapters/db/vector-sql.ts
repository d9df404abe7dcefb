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

/**
 * HNSW tuning: `m` and `efConstruction` shape an index when it is built (a bigger graph finds more of the true
 * neighbours at a given search effort, and costs a longer build); `efSearch` is the candidate list of each search
 * (more recall, more time). Measured by `npm run bench -- faces`.
 */
export interface VectorIndexOptions {
  readonly m: number;
  readonly efConstruction: number;
  readonly efSearch: number;
}

/**
 * A denser graph than pgvector's defaults (m 16, ef_construction 64): on the bench's synthetic faces, recall@10 at
 * ef_search 100 rose from 0.93 to 0.98 at 100k faces and from 0.72 to 0.88 at 1M, for ~3x the build time.
 */
export const DEFAULT_VECTOR_INDEX: VectorIndexOptions = { m: 32, efConstruction: 128, efSearch: 100 };

/** The index definition for one embedding size of a table. */
export function hnswIndexSql(table: 'face_embeddings' | 'media_faces', dims: number, o: VectorIndexOptions): string {
  return (
    `create index if not exists ${table}_hnsw_${dims} on ${table} using hnsw ((embedding::vector(${dims})) vector_cosine_ops) ` +
    `with (m = ${o.m}, ef_construction = ${o.efConstruction}) where dims = ${dims}`
  );
}

/** Creates (once per process and table; IF NOT EXISTS across processes) the HNSW cosine index for one size. */
export class HnswIndexes {
  private readonly made = new Set<number>();

  constructor(
    private readonly db: Db,
    private readonly table: 'face_embeddings' | 'media_faces',
    private readonly options: VectorIndexOptions,
  ) {}

  /** Makes sure the index for `dims` exists. */
  async ensure(dims: number): Promise<void> {
    if (this.made.has(dims)) return;
    if (!Number.isInteger(dims) || dims < 1 || dims > 16_000) throw new Error(`bad embedding size ${dims}`);
    await this.db.execute(sql.raw(hnswIndexSql(this.table, dims, this.options)));
    this.made.add(dims);
  }
}

/** node-postgres answers `{ rows }`, PGlite's driver the same shape; both through Drizzle's execute. */
export function rowsOf<T>(result: unknown): T[] {
  return (result as { rows?: T[] }).rows ?? (result as T[]);
}
