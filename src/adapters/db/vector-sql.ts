/**
 * pgvector helpers shared by the face tables: vector literals, HNSW indexes and the rows of a raw query. Embeddings
 * of every size share one `vector` column. Seen faces (media_faces) get a partial HNSW index per size over
 * `embedding::vector(N)` (where dims = N). Enrolled faces (face_embeddings) are searched one scope at a time (owner,
 * collection, model, size): a scope below `exactBelow` faces is searched exactly, a larger one gets its own partial
 * HNSW index on `embedding::halfvec(N)` (see face-repository.ts).
 */
import { createHash } from 'node:crypto';
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
  /** Enrolled faces in one scope below which a search is exact and the scope has no HNSW index of its own. */
  readonly exactBelow?: number;
}

/**
 * A denser graph than pgvector's defaults (m 16, ef_construction 64): on the bench's synthetic faces, recall@10 at
 * ef_search 100 rose from 0.93 to 0.98 at 100k faces and from 0.72 to 0.88 at 1M, for ~3x the build time.
 * exactBelow 10,000: in the bench (a collection inside 1M faces, 2 cores loaded ~6x), a 10k collection's own index
 * answered in p50 2.8 / p95 7.1 ms (recall 0.998) against 13.5 / 30.1 ms for exact search, and at 100k 8.5 / 23.6 ms
 * against 124 / 165 ms. Smaller collections stay exact: complete answers, and no index per small gallery (every
 * partial index costs the planner a predicate check per search and every insert a predicate test).
 */
export const DEFAULT_VECTOR_INDEX = { m: 32, efConstruction: 128, efSearch: 100, exactBelow: 10_000 } as const satisfies VectorIndexOptions;

/** One searchable set of enrolled faces: searches never cross owners, collections, models or sizes. */
export interface FaceScope {
  readonly ownerId: string;
  readonly collection: string;
  readonly model: string;
  readonly dims: number;
}

/** A SQL string literal (standard_conforming_strings, PostgreSQL's default since 9.1): DDL takes no parameters. */
export function literalOf(s: string): string {
  if (s.includes('\0')) throw new Error('a NUL character in a face scope');
  // A backslash is an escape only where a server runs with standard_conforming_strings off; E'' reads it the same everywhere.
  if (s.includes('\\')) return `E'${s.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
  return `'${s.replaceAll("'", "''")}'`;
}

/** The name of a scope's own HNSW index: a hash, since owner and collection are free text and names are 63 bytes. */
export function scopeIndexName(s: FaceScope): string {
  const hash = createHash('sha256').update(JSON.stringify([s.ownerId, s.collection, s.model, s.dims])).digest('hex').slice(0, 20);
  return `face_embeddings_scope_hnsw_${hash}`;
}

/**
 * A scope's own HNSW index: partial (only its rows), on half-precision vectors (half the size of full ones, so twice
 * the graph stays in memory; the search re-ranks its candidates at full precision). The WHERE clause repeats the
 * search's own filter, so the planner proves the index applies to that search and to no other.
 */
export function scopeIndexSql(s: FaceScope, o: VectorIndexOptions, concurrently: boolean): string {
  if (!Number.isInteger(s.dims) || s.dims < 1 || s.dims > 4000) throw new Error(`bad embedding size ${s.dims}`);
  return (
    `create index ${concurrently ? 'concurrently ' : ''}if not exists ${scopeIndexName(s)} on face_embeddings ` +
    `using hnsw ((embedding::halfvec(${s.dims})) halfvec_cosine_ops) with (m = ${o.m}, ef_construction = ${o.efConstruction}) ` +
    `where owner_id = ${literalOf(s.ownerId)} and collection = ${literalOf(s.collection)} and model = ${literalOf(s.model)} and dims = ${s.dims}`
  );
}

/** The index definition for one embedding size of a table. */
export function hnswIndexSql(table: 'media_faces', dims: number, o: VectorIndexOptions): string {
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
    private readonly table: 'media_faces',
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
