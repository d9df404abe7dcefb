/**
 * Faces in video: every analysed frame's faces are tracked (their own tracker, class "face"), and each face track
 * keeps the aligned crop of its best-quality frame. When the video ends, each track is embedded and searched once,
 * on that best frame — a person is recognised once per track, not once per frame. Those faces are also indexed
 * with the video, so it can be found by selfie (`POST /faces/media/search`).
 */
import { randomUUID } from 'node:crypto';
import { faceOptions, faceSettingsFrom, type FacesDeps } from '../app/faces.js';
import { embedAligned, findFacesInPixels } from '../app/face-pipeline.js';
import type { BibRepository, FaceRepository, JobRecord, MediaFaceRecord } from '../app/ports.js';
import { roundBox, type Box } from '../domain/geometry.js';
import type { RgbImage } from '../domain/image-tensor.js';
import { Tracker } from '../domain/tracking/tracker.js';

interface Best {
  aligned: RgbImage;
  score: number;
  frame: number;
  timestamp: number;
  box: Box;
}

/** One frame's faces as the frame event shows them. */
export interface FrameFace {
  box: Box;
  score: number;
  track_id: number | null;
}

/** Follows the faces of one video job. */
export class VideoFaces {
  private readonly tracker: Tracker;
  private readonly best = new Map<number, Best>();
  private readonly settings;
  /** Each searched track's face, for finding the video by selfie. */
  private readonly embedded: MediaFaceRecord[] = [];

  constructor(
    private readonly deps: FacesDeps & { faces: FaceRepository; bibs: BibRepository },
    private readonly job: JobRecord,
  ) {
    const s = job.settings;
    this.settings = faceSettingsFrom(s);
    this.tracker = new Tracker({ iouThreshold: s.tracking_intersection_threshold, maxAgeSeconds: s.tracking_max_age_seconds, minHits: s.tracking_min_hits, highThreshold: this.settings.minScore });
  }

  /** Finds and tracks the faces of one frame; `scale` maps frame pixels to video pixels. */
  async frame(image: RgbImage, index: number, timestamp: number, scale: number): Promise<FrameFace[]> {
    const report = await findFacesInPixels(this.deps, image, faceOptions(this.settings, false, { keepAligned: true }));
    const boxes = report.faces.map((f) => ({ x1: f.box.x1 * scale, y1: f.box.y1 * scale, x2: f.box.x2 * scale, y2: f.box.y2 * scale }));
    const tracked = this.tracker.update({ frameIndex: index, timestamp, detections: report.faces.map((f, i) => ({ label: 'face', classId: 0, confidence: f.score, box: boxes[i] as Box })) });
    return tracked.detections.map((d, i) => {
      const face = report.faces[i];
      if (d.trackId !== null && face?.aligned) {
        const prev = this.best.get(d.trackId);
        if (!prev || face.quality.score > prev.score) {
          this.best.set(d.trackId, { aligned: face.aligned, score: face.quality.score, frame: index, timestamp, box: d.box });
        }
      }
      return { box: roundBox(d.box), score: d.confidence, track_id: d.trackId };
    });
  }

  /** Embeds each track's best face once and searches the job's collection (unless the job only detects). */
  async finish(): Promise<Record<string, unknown>[]> {
    const search = this.job.options.faceOperation !== 'detect';
    const embedder = search ? await this.deps.models.require(this.settings.embedder, 'face-embed') : null;
    const out: Record<string, unknown>[] = [];
    for (const t of this.tracker.tracks()) {
      const best = this.best.get(t.trackId);
      let matches: Record<string, unknown>[] = [];
      if (embedder && best) {
        const embedding = await embedAligned(this.deps, embedder, best.aligned);
        this.embedded.push({ id: randomUUID(), model: embedder.manifest.id, embedding, box: roundBox(best.box), bibNumber: null, frameIndex: best.frame, timestamp: best.timestamp });
        const hits = await this.deps.faces.search(this.job.ownerId, this.job.options.collection ?? 'default', embedder.manifest.id, embedding, 5);
        matches = hits
          .filter((h) => h.similarity >= this.settings.threshold)
          .map((h) => ({ person_id: h.personId, person_name: h.personName, similarity: Math.round(h.similarity * 10_000) / 10_000 }));
      }
      out.push({
        track_id: t.trackId,
        first_time: Math.round(t.firstTime * 1000) / 1000,
        last_time: Math.round(t.lastTime * 1000) / 1000,
        hits: t.hits,
        best_frame: best ? { index: best.frame, timestamp: Math.round(best.timestamp * 1000) / 1000, box: roundBox(best.box), quality: Math.round(best.score * 1000) / 1000 } : null,
        matches,
      });
    }
    return out;
  }

  /** Indexes each track's face with the stored video (unless a bib analysis already indexed its faces). */
  async save(ownerId: string, mediaId: string): Promise<void> {
    await this.deps.bibs.addFacesOnce(ownerId, mediaId, this.embedded, this.deps.clock.now());
  }
}
