/**
 * "Find my photos by selfie": the stored media where a face like the probe's was seen. Faces of media are indexed
 * by bib analyses (with the bib their person carries) and by `faces` jobs that search stored images; a medium's
 * faces are indexed once, so a bib analysis's faces, which carry bibs, are never replaced by bare ones.
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../domain/errors.js';
import type { Box } from '../domain/geometry.js';
import { findFaces, type FacePipelineDeps, type FaceReport, type FoundFace } from './face-pipeline.js';
import { faceOptions, faceView, type FaceSettings } from './faces.js';
import type { BibRepository, Clock } from './ports.js';

/** What the media search needs. */
export interface FaceMediaDeps extends FacePipelineDeps {
  readonly bibs: BibRepository;
}

/** Candidate faces fetched per medium asked for: one person is often in several faces of a medium. */
const OVERFETCH = 5;

/** One medium in a face search. */
export interface FaceMediaView {
  media_id: string;
  name: string;
  kind: 'image' | 'video';
  similarity: number;
  box: Box;
  frame_index: number | null;
  timestamp: number | null;
}

/** Indexes the embedded faces of one analysed image for media search, unless the image already has faces indexed. */
export async function indexMediaFaces(deps: { bibs: BibRepository; clock: Clock }, ownerId: string, mediaId: string, report: FaceReport): Promise<void> {
  if (!report.embedder) return;
  const model = report.embedder;
  const faces = report.faces
    .filter((f): f is FoundFace & { embedding: Float32Array } => f.embedding !== null)
    .map((f) => ({ id: randomUUID(), model, embedding: f.embedding, box: f.box, bibNumber: null, frameIndex: null, timestamp: null }));
  await deps.bibs.addFacesOnce(ownerId, mediaId, faces, deps.clock.now());
}

/** The media where the probe's face (the largest, or `faceIndex`) appears, most similar first, above the threshold. */
export async function mediaWithFace(
  deps: FaceMediaDeps,
  input: { ownerId: string; data: Uint8Array; limit: number; faceIndex?: number | undefined },
  s: FaceSettings,
): Promise<{ model: string; threshold: number; face: Record<string, unknown>; total: number; media: FaceMediaView[] }> {
  const report = await findFaces(deps, input.data, faceOptions(s, true));
  if (report.faces.length === 0) throw new AppError('NO_FACES', 'no face was found in the image');
  const face = report.faces[input.faceIndex ?? 0];
  if (!face) throw new AppError('VALIDATION_ERROR', `face_index ${input.faceIndex} is out of range: the image has ${report.faces.length} face(s)`);
  const hits = await deps.bibs.similarFaces(input.ownerId, report.embedder as string, face.embedding as Float32Array, s.threshold, input.limit * OVERFETCH);
  const best = new Map<string, FaceMediaView>();
  for (const h of hits) {
    if (best.has(h.mediaId)) continue;
    best.set(h.mediaId, { media_id: h.mediaId, name: h.name, kind: h.kind, similarity: Math.round(h.similarity * 10_000) / 10_000, box: h.box, frame_index: h.frameIndex, timestamp: h.timestamp });
  }
  const media = [...best.values()].slice(0, input.limit);
  return { model: report.embedder as string, threshold: s.threshold, face: faceView(face), total: media.length, media };
}
