/**
 * The bib index: bibs read on stored media, and the faces seen with them, so a runner finds their photos by
 * number (`GET /bibs/{number}/media`). When a bib and a face sit on the same person, the face carries the bib; a
 * bib search then also returns the media where only that face is visible, marked as inferred.
 */
import { randomUUID } from 'node:crypto';
import { bibsOfFaces } from '../domain/bibs/bib-fusion.js';
import { AppError } from '../domain/errors.js';
import type { Box } from '../domain/geometry.js';
import type { RgbImage } from '../domain/image-tensor.js';
import type { BibReport } from './bibs.js';
import { findFacesInPixels, type FacePipelineDeps, type FaceOptions } from './face-pipeline.js';
import { faceOptions, type FaceSettings } from './faces.js';
import type { BibRepository, BibSightingRecord, Clock, MediaFaceRecord } from './ports.js';

/** Dependencies of the bib index. */
export interface BibIndexDeps extends FacePipelineDeps {
  readonly bibs: BibRepository;
  readonly clock: Clock;
}

/** Faces per bib carrier searched for look-alikes, and hits kept per face. */
const CARRIER_FACES = 20;
const HITS_PER_FACE = 200;

/** Where in a video the bibs and faces were seen (null for photos). */
export interface FramePlace {
  readonly frameIndex: number;
  readonly timestamp: number;
}

/** What one image or frame contributes to the index. */
export interface IndexedFrame {
  readonly bibs: BibSightingRecord[];
  readonly faces: MediaFaceRecord[];
}

/**
 * The bibs of one analysed image (or frame) and its faces, each face with the bib its person carries. Faces are
 * found with embeddings; without a usable face model only the bibs are kept (the fusion is skipped, not the bibs).
 */
export async function indexFrame(deps: FacePipelineDeps, image: RgbImage, report: BibReport, faces: FaceOptions | null, place: FramePlace | null = null): Promise<IndexedFrame> {
  const bibs: BibSightingRecord[] = report.detections.map((d) => ({
    number: d.bib_number,
    confidence: d.confidence,
    box: d.box,
    personBox: d.person_box,
    frameIndex: place?.frameIndex ?? null,
    timestamp: place?.timestamp ?? null,
  }));
  if (!faces) return { bibs, faces: [] };
  let found;
  try {
    found = await findFacesInPixels(deps, image, { ...faces, embed: true });
  } catch (err) {
    if (err instanceof AppError && err.code === 'MODEL_UNAVAILABLE') return { bibs, faces: [] };
    throw err;
  }
  const carried = bibsOfFaces(
    found.faces.map((f) => f.box),
    report.detections.map((d) => ({ number: d.bib_number, confidence: d.confidence, box: d.box, personBox: d.person_box })),
    report.persons,
  );
  const mediaFaces = found.faces.map((f, i) => ({
    id: randomUUID(),
    model: found.embedder as string,
    embedding: f.embedding as Float32Array,
    box: f.box,
    bibNumber: carried[i] ?? null,
    frameIndex: place?.frameIndex ?? null,
    timestamp: place?.timestamp ?? null,
  }));
  return { bibs, faces: mediaFaces };
}

/** Stores what was indexed for one medium, replacing its previous analysis. */
export async function saveBibIndex(deps: { bibs: BibRepository; clock: Clock }, ownerId: string, mediaId: string, frames: readonly IndexedFrame[]): Promise<{ bibs: number; faces: number }> {
  const bibs = frames.flatMap((f) => f.bibs);
  const faces = frames.flatMap((f) => f.faces);
  await deps.bibs.replaceForMedia(ownerId, mediaId, bibs, faces, deps.clock.now());
  return { bibs: bibs.length, faces: faces.length };
}

/** Indexes the bibs and faces of one stored image, replacing its previous analysis; the report says what was kept. */
export async function indexImage(deps: BibIndexDeps, ownerId: string, mediaId: string, image: RgbImage, report: BibReport, face: FaceSettings): Promise<BibReport> {
  const frame = await indexFrame(deps, image, report, faceOptions(face, true));
  const counts = await saveBibIndex(deps, ownerId, mediaId, [frame]);
  report.indexed = { bibs: counts.bibs, faces: counts.faces, faces_with_bib: frame.faces.filter((f) => f.bibNumber !== null).length };
  return report;
}

/** One medium in a bib search. */
export interface BibMediaView {
  media_id: string;
  name: string;
  kind: 'image' | 'video';
  confidence: number;
  /** true: only the bib carrier's face is here (matched by face similarity), not the bib. */
  inferred: boolean;
  source: 'bib' | 'face';
  box: Box;
  /** Video: the frame of the best sighting. */
  frame_index: number | null;
  timestamp: number | null;
  sightings?: number;
  similarity?: number;
}

/** Every medium where `number` was read, then every medium where only its carrier's face was seen. */
export async function mediaForBib(deps: { bibs: BibRepository }, ownerId: string, number: string, threshold: number): Promise<{ bib_number: string; total: number; threshold: number; media: BibMediaView[] }> {
  const direct = await deps.bibs.mediaWithBib(ownerId, number);
  const seen = new Set(direct.map((d) => d.mediaId));
  const media: BibMediaView[] = direct.map((d) => ({
    media_id: d.mediaId,
    name: d.name,
    kind: d.kind,
    confidence: d.confidence,
    inferred: false,
    source: 'bib',
    box: d.box,
    frame_index: d.frameIndex,
    timestamp: d.timestamp,
    sightings: d.sightings,
  }));
  const inferred = new Map<string, BibMediaView>();
  const carriers = (await deps.bibs.facesWithBib(ownerId, number)).slice(0, CARRIER_FACES);
  for (const face of carriers) {
    for (const hit of await deps.bibs.similarFaces(ownerId, face.model, face.embedding, threshold, HITS_PER_FACE)) {
      if (seen.has(hit.mediaId)) continue;
      const prev = inferred.get(hit.mediaId);
      if (prev && (prev.similarity ?? 0) >= hit.similarity) continue;
      const similarity = Math.round(hit.similarity * 10_000) / 10_000;
      inferred.set(hit.mediaId, {
        media_id: hit.mediaId,
        name: hit.name,
        kind: hit.kind,
        confidence: similarity,
        inferred: true,
        source: 'face',
        box: hit.box,
        frame_index: hit.frameIndex,
        timestamp: hit.timestamp,
        similarity,
      });
    }
  }
  media.push(...[...inferred.values()].sort((a, b) => b.confidence - a.confidence));
  return { bib_number: number, total: media.length, threshold, media };
}
