/**
 * Face use cases (seed 004, phase 3): detect, enroll a person's face into a collection, search a collection with
 * every face of a probe image, compare two faces, and manage persons. Searches only ever compare embeddings made by
 * the same model, within one owner's collection.
 */
import { randomUUID } from 'node:crypto';
import type { AiSettings } from '../domain/ai-settings.js';
import { AppError } from '../domain/errors.js';
import { cosine } from '../domain/faces/embedding.js';
import { judgeEnrollment } from '../domain/faces/quality.js';
import { findFaces, type FacePipelineDeps, type FaceOptions, type FaceReport, type FoundFace } from './face-pipeline.js';
import type { Clock, FaceRepository, PersonRecord } from './ports.js';

/** Side of the square picture kept of each enrolled face, in pixels. */
export const FACE_THUMBNAIL_SIZE = 160;

/** Dependencies of the face use cases. */
export interface FacesDeps extends FacePipelineDeps {
  readonly faces: FaceRepository;
  readonly clock: Clock;
}

/** The face settings of one call: models, detection score, match threshold. */
export interface FaceSettings {
  readonly detector: string;
  readonly embedder: string;
  readonly minScore: number;
  readonly threshold: number;
}

/** YuNet score below which a detection is not a face (calibration in the README's faces section). */
export const FACE_MIN_SCORE = 0.7;

/** Face settings from a user's AI settings, with an optional per-call threshold. */
export function faceSettingsFrom(s: AiSettings, threshold?: number): FaceSettings {
  return { detector: s.face_detection_model, embedder: s.face_embedding_model, minScore: FACE_MIN_SCORE, threshold: threshold ?? s.face_similarity_threshold };
}

/** The pipeline options for these settings: detect only, or embed too (video keeps aligned crops to embed later). */
export function faceOptions(s: FaceSettings, embed: boolean, extra: Pick<FaceOptions, 'keepAligned'> = {}): FaceOptions {
  return { detector: s.detector, embedder: s.embedder, minScore: s.minScore, embed, ...extra };
}

/** The API view of one found face (embedding left out). */
export function faceView(f: FoundFace): Record<string, unknown> {
  return { box: f.box, landmarks: f.landmarks, score: f.score, quality: finiteOrNull(f.quality) };
}

/** Digits kept of each quality measure: enough to compare faces, not fourteen decimals of noise. */
const QUALITY_DIGITS: Record<string, number> = { size: 1, sharpness: 1, yaw: 1, pitch: 1, roll: 1, score: 3 };

/**
 * Quality as shown: rounded, and measurements that could not be made (NaN pose from landmarks that make no face)
 * as null.
 */
function finiteOrNull<T extends object>(q: T): { [K in keyof T]: number | null } {
  return Object.fromEntries(
    Object.entries(q).map(([k, v]) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) return [k, null];
      const f = 10 ** (QUALITY_DIGITS[k] ?? 3);
      return [k, Math.round(v * f) / f];
    }),
  ) as { [K in keyof T]: number | null };
}

/** Every face in the image, with landmarks and quality. */
export async function detectFaces(deps: FacesDeps, data: Uint8Array, s: FaceSettings): Promise<Record<string, unknown>> {
  const report = await findFaces(deps, data, faceOptions(s, false));
  return { width: report.width, height: report.height, model: report.detector, faces_detected: report.faces.length, faces: report.faces.map(faceView) };
}

/** What enrollment needs. */
export interface EnrollInput {
  readonly ownerId: string;
  readonly data: Uint8Array;
  readonly collection?: string | undefined;
  readonly personName?: string | undefined;
  readonly personId?: string | undefined;
  /** Which face when the photo has several (0 = the largest). */
  readonly faceIndex?: number | undefined;
}

/** Enrolls one face for a new person (person_name) or an existing one (person_id). */
export async function enrollFace(deps: FacesDeps, input: EnrollInput, s: FaceSettings): Promise<Record<string, unknown>> {
  if ((input.personName === undefined) === (input.personId === undefined)) {
    throw new AppError('VALIDATION_ERROR', 'give exactly one of person_name (a new person) or person_id (add a face to a person)');
  }
  const name = input.personName?.trim();
  if (name === '') throw new AppError('VALIDATION_ERROR', 'person_name is blank');
  let person: PersonRecord | null = null;
  if (input.personId !== undefined) {
    person = await deps.faces.findPerson(input.ownerId, input.personId);
    if (!person) throw new AppError('NOT_FOUND', `person ${input.personId} not found`);
    // A face added to a person goes to the person's collection; naming another one is a mistake worth reporting.
    if (input.collection !== undefined && person.collection !== input.collection) {
      throw new AppError('VALIDATION_ERROR', `person ${person.id} belongs to collection '${person.collection}', not '${input.collection}'`);
    }
  }
  const report = await findFaces(deps, input.data, faceOptions(s, true));
  const face = pickFace(report, input.faceIndex);
  const poor = judgeEnrollment(face.quality);
  if (poor) throw new AppError('POOR_FACE_QUALITY', `this face is too poor to enroll: ${poor}`, { quality: face.quality });
  const now = deps.clock.now();
  let created = false;
  if (!person) {
    // A name is unique within a collection (as CompreFace's subjects are): enrolling a known name adds this face to
    // that person rather than making a namesake.
    const collection = input.collection ?? 'default';
    person = await deps.faces.findPersonByName(input.ownerId, collection, name as string);
    if (!person) {
      person = { id: randomUUID(), ownerId: input.ownerId, collection, name: name as string, createdAt: now, updatedAt: now };
      await deps.faces.createPerson(person);
      created = true;
    }
  }
  const faceId = randomUUID();
  // The face's picture is kept with it (and goes with it): the enrollment photo itself is not stored.
  const thumbnail = await deps.decoder.faceCrop(input.data, face.box, FACE_THUMBNAIL_SIZE);
  await deps.faces.addFace({
    id: faceId,
    ownerId: input.ownerId,
    personId: person.id,
    collection: person.collection,
    model: report.embedder as string,
    embedding: face.embedding as Float32Array,
    mediaId: null,
    box: face.box,
    quality: face.quality,
    thumbnail,
    createdAt: now,
  });
  return { person_id: person.id, person_name: person.name, person_created: created, collection: person.collection, face_id: faceId, model: report.embedder, face: faceView(face) };
}

function pickFace(report: FaceReport, index: number | undefined): FoundFace {
  if (report.faces.length === 0) throw new AppError('NO_FACES', 'no face was found in the image');
  if (index === undefined) {
    if (report.faces.length > 1) {
      throw new AppError('VALIDATION_ERROR', `the image has ${report.faces.length} faces; say which with face_index (0 = the largest)`, { faces: report.faces.map(faceView) });
    }
    return report.faces[0] as FoundFace;
  }
  const face = report.faces[index];
  if (!face) throw new AppError('VALIDATION_ERROR', `face_index ${index} is out of range: the image has ${report.faces.length} face(s)`);
  return face;
}

/** Searches a collection with every face of the probe: matches above the threshold, best first. */
export async function searchFaces(deps: FacesDeps, input: { ownerId: string; data: Uint8Array; collection: string; limit: number }, s: FaceSettings): Promise<Record<string, unknown>> {
  return searchFoundFaces(deps, await findFaces(deps, input.data, faceOptions(s, true)), input, s);
}

/** The same with the faces already found and embedded (a job also indexes them). */
export async function searchFoundFaces(deps: FacesDeps, report: FaceReport, input: { ownerId: string; collection: string; limit: number }, s: FaceSettings): Promise<Record<string, unknown>> {
  const faces = [];
  for (const f of report.faces) {
    const hits = await deps.faces.search(input.ownerId, input.collection, report.embedder as string, f.embedding as Float32Array, input.limit);
    const matches = hits
      .filter((h) => h.similarity >= s.threshold)
      .map((h) => ({ person_id: h.personId, person_name: h.personName, similarity: Math.round(h.similarity * 10_000) / 10_000 }));
    faces.push({ ...faceView(f), matches });
  }
  return { collection: input.collection, model: report.embedder, threshold: s.threshold, faces_detected: faces.length, faces };
}

/** 1:1 comparison of the largest face of each image. */
export async function compareFaces(deps: FacesDeps, image1: Uint8Array, image2: Uint8Array, s: FaceSettings): Promise<Record<string, unknown>> {
  const [a, b] = await Promise.all([findFaces(deps, image1, faceOptions(s, true)), findFaces(deps, image2, faceOptions(s, true))]);
  if (a.faces.length === 0) throw new AppError('NO_FACES', 'no face was found in image1');
  if (b.faces.length === 0) throw new AppError('NO_FACES', 'no face was found in image2');
  const fa = a.faces[0] as FoundFace;
  const fb = b.faces[0] as FoundFace;
  const similarity = cosine(fa.embedding as Float32Array, fb.embedding as Float32Array);
  return {
    similarity: Math.round(similarity * 10_000) / 10_000,
    same_person: similarity >= s.threshold,
    threshold: s.threshold,
    model: a.embedder,
    face1: faceView(fa),
    face2: faceView(fb),
  };
}
