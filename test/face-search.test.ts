/**
 * Face search semantics at the repository, on both databases: searches never leave their scope (owner, collection,
 * model, size); a scope below ARGUS_VECTOR_EXACT_BELOW is searched exactly and gets no index; a larger one gets its
 * own partial HNSW index (with the configured graph settings), its searches use it, and they agree with exact search.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/adapters/db/database.js';
import { SqlFaceRepository } from '../src/adapters/db/face-repository.js';
import { rowsOf, scopeIndexName, type FaceScope } from '../src/adapters/db/vector-sql.js';
import { DB_MODES, freshPostgres } from './helper.js';

const DIMS = 16;
const MODEL = 'test-embedder';
const VECTORS = { m: 8, efConstruction: 32, efSearch: 40, exactBelow: 60 };
const at = new Date('2026-01-01T00:00:00Z');

/** Deterministic unit vectors (mulberry32): `persons` centroids, each face a noisy copy of its person's. */
function random(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
}
function unit(v: number[]): Float32Array {
  const n = Math.hypot(...v);
  return Float32Array.from(v, (x) => x / n);
}
const rnd = random(42);
const centroids = Array.from({ length: 40 }, () => Array.from({ length: DIMS }, rnd));
const faceOf = (p: number, noise = 0.35): Float32Array => unit(centroids[p]!.map((x) => x + noise * rnd()));

describe.each(DB_MODES)('face search scopes on %s', (mode) => {
  let database: Database;
  let drop: (() => Promise<void>) | undefined;
  let repo: SqlFaceRepository;
  let faceNo = 0;

  beforeAll(async () => {
    if (mode === 'postgres') {
      const pgdb = await freshPostgres();
      drop = pgdb.drop;
      database = await openDatabase({ url: pgdb.url, pgliteDir: '' });
    } else {
      database = await openDatabase({ pgliteDir: 'memory://' });
    }
    await database.migrate();
    repo = new SqlFaceRepository(database.db, VECTORS, database.kind, (err) => {
      throw err;
    });
  });
  afterAll(async () => {
    await repo?.settled();
    await database?.close();
    await drop?.();
  });

  /** Enrolls persons 0..n-1 of the shared centroids in one scope, `faces` faces each; returns their ids. */
  async function enroll(scope: Omit<FaceScope, 'dims'>, n: number, faces: number): Promise<string[]> {
    const ids: string[] = [];
    for (let p = 0; p < n; p++) {
      const id = `${scope.ownerId}/${scope.collection}/${scope.model}/p${p}`;
      ids.push(id);
      await repo.createPerson({ id, ownerId: scope.ownerId, collection: scope.collection, name: `person ${p}`, createdAt: at, updatedAt: at });
      for (let k = 0; k < faces; k++) {
        await repo.addFace({
          id: `f${faceNo++}`,
          ownerId: scope.ownerId,
          personId: id,
          collection: scope.collection,
          model: scope.model,
          embedding: faceOf(p),
          mediaId: null,
          box: { x1: 0, y1: 0, x2: 10, y2: 10 },
          quality: { size: 112, sharpness: 100, yaw: 0, pitch: 0, roll: 0, score: 0.9 },
          createdAt: at,
        });
      }
    }
    await repo.settled();
    return ids;
  }

  async function indexNames(): Promise<string[]> {
    const rows = rowsOf<{ indexname: string; indexdef: string }>(await database.db.execute(sql`select indexname, indexdef from pg_indexes where tablename = 'face_embeddings'`));
    return rows.map((r) => r.indexname);
  }

  // Quotes and a backslash: the scope's index and its search spell the collection as SQL literals.
  const big = { ownerId: 'alice', collection: 'O\'Brien "marathon" \\ 2026', model: MODEL };
  const small = { ownerId: 'alice', collection: 'club', model: MODEL };
  let bigIds: string[] = [];
  let smallIds: string[] = [];

  it('indexes a scope once it reaches exactBelow faces, and only that scope', async () => {
    smallIds = await enroll(small, 10, 2); // 20 faces: stays exact
    bigIds = await enroll(big, 40, 2); // 80 faces: gets its own index
    // The same faces under another owner, and under another model, in a collection of the same name.
    await enroll({ ...big, ownerId: 'bob' }, 10, 2);
    await enroll({ ...big, model: 'other-embedder' }, 10, 2);

    const names = await indexNames();
    const bigIndex = scopeIndexName({ ...big, dims: DIMS });
    expect(names).toContain(bigIndex);
    expect(names).not.toContain(scopeIndexName({ ...small, dims: DIMS }));
    expect(names.filter((n) => n.includes('hnsw'))).toEqual([bigIndex]);
    expect(repo.indexed({ ...big, dims: DIMS })).toBe(true);
    expect(repo.indexed({ ...small, dims: DIMS })).toBe(false);
    // Built with the configured graph settings (ARGUS_VECTOR_M, ARGUS_VECTOR_EF_CONSTRUCTION), on half precision.
    const def = JSON.stringify(await database.db.execute(sql`select indexdef from pg_indexes where indexname = ${bigIndex}`));
    expect(def).toContain(`m='${VECTORS.m}'`);
    expect(def).toContain(`ef_construction='${VECTORS.efConstruction}'`);
    expect(def).toContain('halfvec_cosine_ops');

    // The planner proves the partial index serves the search's own filter (bound as parameters, as search() does).
    const probe = sql.raw(`'[${Array.from(faceOf(3)).join(',')}]'::halfvec(${DIMS})`);
    const plan = JSON.stringify(
      await database.db.execute(sql`explain select id from face_embeddings
        where owner_id = ${big.ownerId} and collection = ${big.collection} and model = ${big.model} and dims = ${DIMS}
        order by embedding::halfvec(${sql.raw(String(DIMS))}) <=> ${probe} limit 50`),
    );
    expect(plan).toContain(bigIndex);
  });

  it('never leaves the scope: owner, collection and model', async () => {
    for (const p of [0, 5, 9]) {
      for (const scope of [big, small, { ...big, ownerId: 'bob' }, { ...big, model: 'other-embedder' }]) {
        const matches = await repo.search(scope.ownerId, scope.collection, scope.model, faceOf(p, 0.2), 10);
        expect(matches.length).toBeGreaterThan(0);
        const prefix = `${scope.ownerId}/${scope.collection}/${scope.model}/`;
        for (const m of matches) expect(m.personId.startsWith(prefix)).toBe(true);
        expect(matches[0]!.personId).toBe(`${prefix}p${p}`);
      }
    }
    expect(await repo.search('carol', big.collection, MODEL, faceOf(1), 10)).toEqual([]);
    expect(await repo.search('alice', 'nobody-here', MODEL, faceOf(1), 10)).toEqual([]);
    // Another embedding size is another scope, even with the same owner, collection and model.
    expect(await repo.search('alice', big.collection, MODEL, unit(Array.from({ length: 32 }, rnd)), 10)).toEqual([]);
  });

  it('agrees with exact search on the indexed scope', async () => {
    const scope = { ...big, dims: DIMS };
    let same = 0;
    let total = 0;
    for (let q = 0; q < 20; q++) {
      const probe = faceOf(q % 40, 0.5);
      const approx = await repo.approximate(scope, probe, 10);
      const exact = await repo.exact(scope, probe, 10);
      expect(approx.length).toBe(10);
      // Candidates are re-ranked at full precision: same distances as exact search for the faces both found.
      const exactById = new Map(exact.map((r) => [r.id, Number(r.distance)]));
      for (const r of approx) if (exactById.has(r.id)) expect(Number(r.distance)).toBeCloseTo(exactById.get(r.id)!, 5);
      same += approx.filter((r) => exactById.has(r.id)).length;
      total += exact.length;
      // search() answers persons in exact search's order of their best faces.
      const persons = await repo.search(scope.ownerId, scope.collection, scope.model, probe, 5);
      const exactPersons = [...new Set((await repo.exact(scope, probe, 50)).map((r) => r.person_id))].slice(0, 5);
      expect(persons.map((m) => m.personId)).toEqual(exactPersons);
    }
    // 80 faces and ef_search 40: the graph finds (nearly) every true neighbour.
    expect(same / total).toBeGreaterThanOrEqual(0.95);
    expect(bigIds).toHaveLength(40);
    expect(smallIds).toHaveLength(10);
  });

  it('forgets deleted faces and persons in both kinds of search', async () => {
    const before = await repo.search(big.ownerId, big.collection, MODEL, faceOf(7, 0.1), 3);
    expect(before[0]!.personId).toBe(bigIds[7]);
    expect(await repo.deletePerson(big.ownerId, bigIds[7]!)).toBe(true);
    const after = await repo.search(big.ownerId, big.collection, MODEL, faceOf(7, 0.1), 10);
    expect(after.map((m) => m.personId)).not.toContain(bigIds[7]);
    expect(await repo.deletePerson(small.ownerId, smallIds[7]!)).toBe(true);
    const smallAfter = await repo.search(small.ownerId, small.collection, MODEL, faceOf(7, 0.1), 10);
    expect(smallAfter.map((m) => m.personId)).not.toContain(smallIds[7]);
  });
});
