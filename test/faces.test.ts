import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_MODES, startTestApp, testdata, type TestApp } from './helper.js';

type Face = { box: { x1: number; y1: number; x2: number; y2: number }; landmarks: [number, number][]; score: number; quality: { size: number } };
type Match = { person_id: string; person_name: string; similarity: number };

const face = (n: number, k: number): string => testdata(`faces/person${String(n).padStart(2, '0')}_ref_0${k}.jpg`);

describe.each(DB_MODES)('faces on %s', (mode) => {
  let t: TestApp;
  let key: string;
  beforeAll(async () => {
    t = await startTestApp(mode);
    key = await t.keyFor('event-organiser');
  });
  afterAll(() => t.close());

  async function post(url: string, parts: Record<string, string | Buffer>, apiKey = key) {
    const form = new FormData();
    for (const [name, v] of Object.entries(parts)) {
      if (typeof v === 'string') form.append(name, v);
      else form.append(name, new Blob([v]), `${name}.jpg`);
    }
    const res = new Response(form);
    return t.app.inject({ method: 'POST', url, payload: Buffer.from(await res.arrayBuffer()), headers: { 'content-type': res.headers.get('content-type')!, 'x-api-key': apiKey } });
  }

  it('finds the 8 faces of ultraface_9.jpg with landmarks on the eyes', async () => {
    const res = await post('/api/v1/faces/detect', { file: await readFile(testdata('images/ultraface_9.jpg')) });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{ faces_detected: number; faces: Face[] }>();
    expect(body.faces_detected).toBe(8);
    for (const f of body.faces) {
      const [re, le, nose] = f.landmarks as [[number, number], [number, number], [number, number]];
      const h = f.box.y2 - f.box.y1;
      // Eyes: inside the box, in its upper half, left to right as seen; the nose below them.
      for (const [x, y] of [re, le]) {
        expect(x).toBeGreaterThan(f.box.x1);
        expect(x).toBeLessThan(f.box.x2);
        expect(y).toBeGreaterThan(f.box.y1);
        expect(y).toBeLessThan(f.box.y1 + h * 0.6);
      }
      expect(re[0]).toBeLessThan(le[0]);
      expect(nose[1]).toBeGreaterThan(Math.min(re[1], le[1]));
    }
    const none = await post('/api/v1/faces/detect', { file: await readFile(testdata('images/HappyFish.jpg')) });
    expect(none.json<{ faces_detected: number }>().faces_detected).toBe(0);
  });

  it('enrolls one photo per person and finds them from their other photos; a stranger is not matched', async () => {
    const ids = new Map<string, number>();
    for (let n = 1; n <= 20; n++) {
      // Some photos show other people too: enroll the largest face (face_index 0).
      const res = await post('/api/v1/faces/enroll', { file: await readFile(face(n, 1)), person_name: `Person ${n}`, collection: 'gala', face_index: '0' });
      expect(res.statusCode, `person ${n}: ${res.body}`).toBe(201);
      expect(res.headers.location).toBe(`/api/v1/faces/persons/${res.json<{ person_id: string }>().person_id}`);
      ids.set(res.json<{ person_id: string }>().person_id, n);
    }
    let correct = 0;
    let identified = 0;
    let probes = 0;
    for (let n = 1; n <= 20; n++) {
      for (const k of [2, 3]) {
        // threshold -1 shows the nearest person whatever the similarity (top-1); the default threshold (0.5) decides a match.
        const res = await post('/api/v1/faces/search', { file: await readFile(face(n, k)), collection: 'gala', threshold: '-1' });
        expect(res.statusCode).toBe(200);
        const top = res.json<{ faces: { matches: Match[] }[] }>().faces[0]?.matches[0];
        probes++;
        if (top && ids.get(top.person_id) === n) {
          correct++;
          if (top.similarity >= 0.5) identified++;
        }
      }
    }
    // A hard set (similar-looking pairs on purpose): clearly better than chance (1/20), not perfect.
    console.log(`faces: top-1 ${correct}/${probes}, identified above the threshold ${identified}/${probes} (${mode})`);
    expect(correct / probes).toBeGreaterThan(0.7);
    expect(identified / probes).toBeGreaterThan(0.5);

    // Strangers (never enrolled) are not matched above the threshold: Messi and the eight children of ultraface_9.
    for (const file of ['images/messi5.jpg', 'images/ultraface_9.jpg']) {
      const res = await post('/api/v1/faces/search', { file: await readFile(testdata(file)), collection: 'gala' });
      const found = res.json<{ faces: { matches: Match[] }[] }>().faces;
      expect(found.length).toBeGreaterThan(0);
      expect(found.flatMap((f) => f.matches), file).toEqual([]);
    }

    // Seed 004's face batch as a job: search finds enrolled people; detect only counts faces.
    const form = new FormData();
    form.append('collection', 'gala');
    for (const f of [face(1, 1), face(4, 1), testdata('images/HappyFish.jpg')]) form.append('files', new Blob([await readFile(f)]), 'p.jpg');
    const r = new Response(form);
    const batch = await t.app.inject({ method: 'POST', url: '/api/v1/faces/search/batch', payload: Buffer.from(await r.arrayBuffer()), headers: { 'content-type': r.headers.get('content-type')!, 'x-api-key': key } });
    expect(batch.statusCode, batch.body).toBe(202);
    const jobId = batch.json<{ job_id: string }>().job_id;
    let job: { status: string; items: { faces: { faces_detected: number; faces: { matches: Match[] }[] } }[] };
    do {
      await new Promise((ok) => setTimeout(ok, 100));
      job = (await t.app.inject({ url: `/api/v1/jobs/${jobId}`, headers: { 'x-api-key': key } })).json();
    } while (job.status === 'PENDING' || job.status === 'PROCESSING');
    expect(job.status).toBe('SUCCESS');
    expect(job.items[0]!.faces.faces[0]!.matches[0]).toMatchObject({ person_name: 'Person 1' });
    expect(job.items[0]!.faces.faces[0]!.matches[0]!.similarity).toBeGreaterThan(0.99);
    expect(job.items[1]!.faces.faces[0]!.matches[0]).toMatchObject({ person_name: 'Person 4' });
    expect(job.items[2]!.faces.faces_detected).toBe(0);

    // Collections scope the search: one nobody was enrolled in is unknown.
    const other = await post('/api/v1/faces/search', { file: await readFile(face(1, 2)), collection: 'marathon' });
    expect(other.statusCode).toBe(404);
    expect(other.json().error.message).toContain("collection 'marathon' not found");
  });

  it('compares two faces', async () => {
    const same = await post('/api/v1/faces/compare', { image1: await readFile(face(3, 1)), image2: await readFile(face(3, 2)) });
    expect(same.statusCode, same.body).toBe(200);
    const diff = await post('/api/v1/faces/compare', { image1: await readFile(face(3, 1)), image2: await readFile(face(7, 1)) });
    expect(same.json<{ similarity: number }>().similarity).toBeGreaterThan(diff.json<{ similarity: number }>().similarity);
    expect(diff.json()).toMatchObject({ same_person: false });
    const noFace = await post('/api/v1/faces/compare', { image1: await readFile(face(3, 1)), image2: await readFile(testdata('images/starry_night.jpg')) });
    expect(noFace.statusCode).toBe(422);
    expect(noFace.json().error.code).toBe('NO_FACES');
    const missing = await post('/api/v1/faces/compare', { image1: await readFile(face(3, 1)) });
    expect(missing.statusCode).toBe(422);
  });

  it('refuses bad enrollments', async () => {
    const group = await readFile(testdata('images/ultraface_9.jpg'));
    const several = await post('/api/v1/faces/enroll', { file: group, person_name: 'Someone' });
    expect(several.statusCode).toBe(422);
    expect(several.json().error.message).toContain('face_index');
    const picked = await post('/api/v1/faces/enroll', { file: group, person_name: 'Child', face_index: '0', collection: 'school' });
    expect(picked.statusCode, picked.body).toBe(201);
    // A face added by person_id goes to the person's own collection; naming another collection is refused.
    const child = picked.json<{ person_id: string }>().person_id;
    const more = await post('/api/v1/faces/enroll', { file: group, person_id: child, face_index: '0' });
    expect(more.statusCode, more.body).toBe(201);
    expect(more.json()).toMatchObject({ person_id: child, collection: 'school', person_created: false });
    // A name is unique within its collection: enrolling "Child" again adds to the same person; elsewhere it is another.
    const again = await post('/api/v1/faces/enroll', { file: group, person_name: 'Child', face_index: '1', collection: 'school' });
    expect(again.json()).toMatchObject({ person_id: child, person_created: false });
    const namesake = await post('/api/v1/faces/enroll', { file: group, person_name: 'Child', face_index: '1', collection: 'other-school' });
    expect(namesake.json()).toMatchObject({ person_created: true });
    expect(namesake.json().person_id).not.toBe(child);
    const collections = await t.app.inject({ url: '/api/v1/faces/collections', headers: { 'x-api-key': key } });
    expect(collections.json().items).toEqual(expect.arrayContaining([{ collection: 'school', persons: 1, faces: 3 }, { collection: 'other-school', persons: 1, faces: 1 }]));
    // An unknown collection is a 404, not an empty list that hides a typo.
    expect((await t.app.inject({ url: '/api/v1/faces/persons?collection=shcool', headers: { 'x-api-key': key } })).statusCode).toBe(404);
    // Quality figures come rounded.
    const q = more.json().face.quality as Record<string, number | null>;
    for (const v of Object.values(q)) if (v !== null) expect(String(v).split('.')[1]?.length ?? 0).toBeLessThanOrEqual(3);
    const elsewhere = await post('/api/v1/faces/enroll', { file: group, person_id: child, face_index: '0', collection: 'gala' });
    expect(elsewhere.statusCode).toBe(422);
    expect(elsewhere.json().error.message).toContain("collection 'school'");
    const cases: [Record<string, string | Buffer>, number, string][] = [
      [{ file: await readFile(testdata('images/HappyFish.jpg')), person_name: 'Fish' }, 422, 'NO_FACES'],
      [{ file: await readFile(face(5, 1)) }, 422, 'VALIDATION_ERROR'],
      [{ file: await readFile(face(5, 1)), person_name: '   ' }, 422, 'VALIDATION_ERROR'],
      [{ file: await readFile(face(5, 1)), person_id: 'not-a-uuid' }, 422, 'VALIDATION_ERROR'],
      [{ file: await readFile(face(5, 1)), person_id: '6f1c1c0e-9a43-4d53-8d0e-3c1f7c1a2b3c' }, 404, 'NOT_FOUND'],
      [{ file: await sharp(await readFile(face(5, 1))).blur(12).jpeg().toBuffer(), person_name: 'Blurry' }, 422, 'POOR_FACE_QUALITY'],
    ];
    for (const [parts, status, code] of cases) {
      const res = await post('/api/v1/faces/enroll', parts);
      expect(res.statusCode, `${code}: ${res.body}`).toBe(status);
      expect(res.json().error.code).toBe(code);
    }
  });

  it('finds stored photos by a selfie: faces jobs index the faces they search, detect-only jobs do not', async () => {
    const selfieKey = await t.keyFor('selfie-gallery');
    const batch = async (files: string[], operation: 'detect' | 'search'): Promise<string[]> => {
      const form = new FormData();
      form.append('operation', operation);
      for (const f of files) form.append('files', new Blob([await readFile(f)]), 'photo.jpg');
      const r = new Response(form);
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/faces/search/batch', payload: Buffer.from(await r.arrayBuffer()), headers: { 'content-type': r.headers.get('content-type')!, 'x-api-key': selfieKey } });
      expect(res.statusCode, res.body).toBe(202);
      const { job_id: jobId, media_ids: ids } = res.json<{ job_id: string; media_ids: string[] }>();
      let status: string;
      do {
        await new Promise((ok) => setTimeout(ok, 100));
        status = (await t.app.inject({ url: `/api/v1/jobs/${jobId}`, headers: { 'x-api-key': selfieKey } })).json<{ status: string }>().status;
      } while (status === 'PENDING' || status === 'PROCESSING');
      expect(status).toBe('SUCCESS');
      return ids;
    };
    const [one, four, seven] = await batch([face(1, 1), face(4, 1), face(7, 1)], 'search');
    const [nine] = await batch([face(9, 1)], 'detect');
    type Found = { face: Face; media: { media_id: string; similarity: number; box: Face['box'] }[] };

    // Person 1's other photo finds her photo, and not persons 4 and 7.
    const res = await post('/api/v1/faces/media/search', { file: await readFile(face(1, 3)) }, selfieKey);
    expect(res.statusCode, res.body).toBe(200);
    const found = res.json<Found>();
    expect(found.media.map((m) => m.media_id)).toContain(one);
    expect(found.media.map((m) => m.media_id)).not.toContain(four);
    expect(found.media.map((m) => m.media_id)).not.toContain(seven);
    expect(found.media[0]!.similarity).toBeGreaterThanOrEqual(0.5);
    // A detect-only job computed no embeddings, so even the very same photo is not found; nor by another owner.
    const same = (await post('/api/v1/faces/media/search', { file: await readFile(face(9, 1)) }, selfieKey)).json<Found>();
    expect(same.media.map((m) => m.media_id)).not.toContain(nine);
    // (Media ids are content ids: another owner storing the same photo gets the same id, with its own index.)
    const other = (await post('/api/v1/faces/media/search', { file: await readFile(face(1, 1)) }, await t.keyFor('no-photos-yet'))).json<Found>();
    expect(other.media.map((m) => m.media_id)).not.toContain(one);
    const fish = await post('/api/v1/faces/media/search', { file: await readFile(testdata('images/HappyFish.jpg')) }, selfieKey);
    expect(fish.statusCode).toBe(422);
    expect(fish.json().error.code).toBe('NO_FACES');
  });

  it('manages persons: list, add and remove a face, delete removes every trace', async () => {
    const created = await post('/api/v1/faces/enroll', { file: await readFile(face(9, 1)), person_name: 'Nine', collection: 'club' });
    const id = created.json<{ person_id: string }>().person_id;
    // A collection this small is searched exactly: no HNSW index of its own, and none over every collection
    // (scopes that reach ARGUS_VECTOR_EXACT_BELOW get theirs: test/face-search.test.ts).
    const indexes = JSON.stringify(await t.database.db.execute(`select indexname from pg_indexes where tablename = 'face_embeddings'`));
    expect(indexes).toContain('face_embeddings_scope_idx');
    expect(indexes).not.toContain('hnsw');
    const added = await post(`/api/v1/faces/persons/${id}/faces`, { file: await readFile(face(9, 2)) });
    expect(added.statusCode, added.body).toBe(200);
    const person = (await t.app.inject({ url: `/api/v1/faces/persons/${id}`, headers: { 'x-api-key': key } })).json<{ face_count: number; faces: { face_id: string }[] }>();
    expect(person.face_count).toBe(2);
    // Each face keeps a small picture of itself (the photo is not stored): the console shows it.
    const thumb = `/api/v1/faces/persons/${id}/faces/${person.faces[0]!.face_id}/thumbnail`;
    const picture = await t.app.inject({ url: thumb, headers: { 'x-api-key': key } });
    expect(picture.statusCode).toBe(200);
    expect(picture.headers['content-type']).toBe('image/webp');
    expect(await sharp(picture.rawPayload).metadata()).toMatchObject({ format: 'webp', width: 160, height: 160 });
    expect((await t.app.inject({ url: thumb, headers: { 'x-api-key': await t.keyFor('other') } })).statusCode).toBe(404);
    const list = (await t.app.inject({ url: '/api/v1/faces/persons?collection=club', headers: { 'x-api-key': key } })).json<{ items: { person_id: string; face_count: number }[]; total: number }>();
    expect(list.total).toBe(1);
    expect(list.items[0]).toMatchObject({ person_id: id, face_count: 2 });

    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/faces/persons/${id}/faces/${person.faces[1]!.face_id}`, headers: { 'x-api-key': key } })).statusCode).toBe(204);
    const found = await post('/api/v1/faces/search', { file: await readFile(face(9, 3)), collection: 'club', threshold: '-1' });
    expect(found.json<{ faces: { matches: Match[] }[] }>().faces[0]!.matches[0]!.person_id).toBe(id);

    // A batch job that found them: its stored result and events name them until they are deleted.
    const form = new FormData();
    form.append('collection', 'club');
    form.append('files', new Blob([await readFile(face(9, 3))]), 'nine.jpg');
    const r = new Response(form);
    const batch = await t.app.inject({ method: 'POST', url: '/api/v1/faces/search/batch', payload: Buffer.from(await r.arrayBuffer()), headers: { 'content-type': r.headers.get('content-type')!, 'x-api-key': key } });
    expect(batch.statusCode, batch.body).toBe(202);
    const jobId = batch.json<{ job_id: string }>().job_id;
    let job: { status: string; items: { faces: { faces: { matches: Match[] }[] } }[] };
    do {
      await new Promise((ok) => setTimeout(ok, 100));
      job = (await t.app.inject({ url: `/api/v1/jobs/${jobId}`, headers: { 'x-api-key': key } })).json();
    } while (job.status === 'PENDING' || job.status === 'PROCESSING');
    expect(job.items[0]!.faces.faces[0]!.matches[0]).toMatchObject({ person_id: id, person_name: 'Nine' });
    const eventsText = async (): Promise<string> => JSON.stringify(await t.database.db.execute(`select data from job_events where job_id = '${jobId}'`));
    expect(await eventsText()).toContain(id);

    // Others see nothing; deletion removes the person and every embedding.
    expect((await t.app.inject({ url: `/api/v1/faces/persons/${id}`, headers: { 'x-api-key': await t.keyFor('other') } })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/faces/persons/${id}`, headers: { 'x-api-key': key } })).statusCode).toBe(204);
    expect((await t.app.inject({ url: `/api/v1/faces/persons/${id}`, headers: { 'x-api-key': key } })).statusCode).toBe(404);
    // The collection held only them: it is gone with them.
    const after = await post('/api/v1/faces/search', { file: await readFile(face(9, 3)), collection: 'club', threshold: '-1' });
    expect(after.statusCode).toBe(404);
    // Their pictures went with them.
    expect((await t.app.inject({ url: thumb, headers: { 'x-api-key': key } })).statusCode).toBe(404);
    const rows = await t.database.db.execute(`select count(*)::int as n from face_embeddings where person_id = '${id}'`);
    expect(((rows as { rows: { n: number }[] }).rows[0]!).n).toBe(0);
    // ...and their matches in stored results and events; the rest of the job's result stays.
    const scrubbed = await t.app.inject({ url: `/api/v1/jobs/${jobId}`, headers: { 'x-api-key': key } });
    expect(scrubbed.json<typeof job>().items[0]!.faces.faces[0]!.matches).toEqual([]);
    expect(scrubbed.json<typeof job>().items[0]!.faces.faces).toHaveLength(1);
    expect(scrubbed.body).not.toContain(id);
    expect(scrubbed.body).not.toContain('Nine');
    expect(await eventsText()).not.toContain(id);
    expect((await t.app.inject({ url: '/api/v1/faces/persons/not-a-uuid', headers: { 'x-api-key': key } })).statusCode).toBe(422);
  });
});

describe('face compare on the 20-person set', () => {
  let t: TestApp;
  let key: string;
  beforeAll(async () => {
    t = await startTestApp('pglite');
    key = await t.keyFor('verifier');
  });
  afterAll(() => t.close());

  it('tells the same person from different people about as well as the test set README measured (AUC 0.96)', async () => {
    const similarity = async (a: string, b: string): Promise<number> => {
      const form = new FormData();
      form.append('image1', new Blob([await readFile(a)]), 'a.jpg');
      form.append('image2', new Blob([await readFile(b)]), 'b.jpg');
      const r = new Response(form);
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/faces/compare', payload: Buffer.from(await r.arrayBuffer()), headers: { 'content-type': r.headers.get('content-type')!, 'x-api-key': key } });
      expect(res.statusCode, res.body).toBe(200);
      return res.json<{ similarity: number }>().similarity;
    };
    const same: number[] = [];
    const different: number[] = [];
    for (let n = 1; n <= 20; n++) {
      for (const [i, j] of [[1, 2], [1, 3], [2, 3]] as const) same.push(await similarity(face(n, i), face(n, j)));
      for (const k of [1, 2, 3]) different.push(await similarity(face(n, k), face(((n + k - 1) % 20) + 1, k)));
    }
    // AUC: the share of (same, different) pairs ordered correctly.
    let ordered = 0;
    for (const s of same) for (const d of different) ordered += s > d ? 1 : s === d ? 0.5 : 0;
    const auc = ordered / (same.length * different.length);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(`faces compare: AUC ${auc.toFixed(3)}, same-person mean ${mean(same).toFixed(3)}, different ${mean(different).toFixed(3)}`);
    expect(auc).toBeGreaterThan(0.92);
    expect(mean(same) - mean(different)).toBeGreaterThan(0.25);
  });
});
