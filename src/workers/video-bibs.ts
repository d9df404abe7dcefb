/**
 * Bibs in video: the torso of each tracked person is read in the analysed frames until its track has a settled
 * number (the same reading twice), so a runner crossing the frame is read a few times, not once per frame. Frames
 * without persons are read whole. When the video ends each person track gets the number with the most confidence
 * summed over its readings, and every reading is stored with its frame and time for bib search.
 *
 * Faces join the index too: in the frames that are read (and while a track has no face yet) faces are found, each
 * given to the person track whose head it is, and each track keeps its best-quality face. When the video ends that
 * face is embedded once and stored with the track's number (or none), so a bib search finds this video through the
 * runner's face, and finds the runner's other media through a face seen here with their bib.
 */
import { randomUUID } from 'node:crypto';
import { saveBibIndex } from '../app/bib-index.js';
import { bibOptionsFrom, recognizeBibsInPixels, type BibDeps, type BibOptions } from '../app/bibs.js';
import { embedAligned, findFacesInPixels } from '../app/face-pipeline.js';
import { faceOptions, faceSettingsFrom, type FaceSettings } from '../app/faces.js';
import type { BibRepository, BibSightingRecord, Clock, JobRecord, MediaFaceRecord } from '../app/ports.js';
import { personOfFace } from '../domain/bibs/bib-fusion.js';
import { AppError } from '../domain/errors.js';
import { roundBox, type Box } from '../domain/geometry.js';
import type { RgbImage } from '../domain/image-tensor.js';

/** Agreeing readings after which a track is not read again. */
const SETTLED_VOTES = 2;

/** A person in one frame, in video pixels, with its track. */
export interface TrackedPerson {
  readonly box: Box;
  readonly trackId: number | null;
}

/** One frame's bibs as the frame event shows them. */
export interface FrameBib {
  bib_number: string;
  confidence: number;
  box: Box;
  track_id: number | null;
}

/** A person track's best face so far, aligned for embedding. */
interface TrackFace {
  readonly aligned: RgbImage;
  readonly score: number;
  readonly box: Box;
  readonly frameIndex: number;
  readonly timestamp: number;
}

interface Votes {
  readonly byNumber: Map<string, { sum: number; count: number }>;
  first: number;
  last: number;
}

/** Reads the bibs of one video job. */
export class VideoBibs {
  private readonly opts: BibOptions;
  private readonly votes = new Map<number, Votes>();
  private readonly sightings: BibSightingRecord[] = [];
  private readonly faces = new Map<number, TrackFace>();
  /** Null once the face models turned out unusable: bibs are still read and stored, without faces. */
  private faceSettings: FaceSettings | null;

  constructor(
    private readonly deps: BibDeps & { bibs: BibRepository; clock: Clock },
    job: JobRecord,
  ) {
    this.opts = bibOptionsFrom(job.settings);
    this.faceSettings = faceSettingsFrom(job.settings);
  }

  /** Reads the bibs of one frame; `scale` maps frame pixels to video pixels. */
  async frame(image: RgbImage, index: number, timestamp: number, scale: number, persons: readonly TrackedPerson[]): Promise<FrameBib[]> {
    const unsettled = persons.filter((p) => p.trackId === null || !this.settled(p.trackId));
    if (persons.some((p) => p.trackId !== null && (!this.faces.has(p.trackId) || unsettled.includes(p)))) {
      await this.noteFaces(image, index, timestamp, scale, persons);
    }
    if (persons.length > 0 && unsettled.length === 0) return [];
    const inFrame = unsettled.map((p) => ({ x1: p.box.x1 / scale, y1: p.box.y1 / scale, x2: p.box.x2 / scale, y2: p.box.y2 / scale }));
    const report = await recognizeBibsInPixels(this.deps, image, this.opts, inFrame);
    const out: FrameBib[] = [];
    for (const d of report.detections) {
      const person = d.person_box ? unsettled[inFrame.findIndex((b) => sameBox(b, d.person_box as Box))] : undefined;
      const trackId = person?.trackId ?? null;
      const box = roundBox({ x1: d.box.x1 * scale, y1: d.box.y1 * scale, x2: d.box.x2 * scale, y2: d.box.y2 * scale });
      if (trackId !== null) this.vote(trackId, d.bib_number, d.confidence, timestamp);
      this.sightings.push({ number: d.bib_number, confidence: d.confidence, box, personBox: person ? roundBox(person.box) : null, frameIndex: index, timestamp });
      out.push({ bib_number: d.bib_number, confidence: d.confidence, box, track_id: trackId });
    }
    return out;
  }

  /** Each person track's number, and each number's first and last sighting. */
  summary(): { bib_tracks: Record<string, unknown>[]; bibs: Record<string, unknown>[] } {
    const bibTracks = [...this.votes.entries()].map(([trackId, v]) => {
      const [number, best] = [...v.byNumber.entries()].sort((a, b) => b[1].sum - a[1].sum)[0] as [string, { sum: number; count: number }];
      return { track_id: trackId, bib_number: number, confidence: round(best.sum / best.count), readings: best.count, first_time: round(v.first), last_time: round(v.last) };
    });
    const byNumber = new Map<string, { first: number; last: number; frames: number; best: number }>();
    for (const s of this.sightings) {
      const e = byNumber.get(s.number) ?? { first: Infinity, last: -Infinity, frames: 0, best: 0 };
      e.first = Math.min(e.first, s.timestamp ?? 0);
      e.last = Math.max(e.last, s.timestamp ?? 0);
      e.frames++;
      e.best = Math.max(e.best, s.confidence);
      byNumber.set(s.number, e);
    }
    const bibs = [...byNumber.entries()]
      .map(([number, e]) => ({ bib_number: number, first_time: round(e.first), last_time: round(e.last), frames: e.frames, confidence: round(e.best) }))
      .sort((a, b) => a.first_time - b.first_time);
    return { bib_tracks: bibTracks, bibs };
  }

  /** Stores every reading, and each person track's best face with its number, replacing a previous analysis. */
  async save(ownerId: string, mediaId: string): Promise<void> {
    await saveBibIndex(this.deps, ownerId, mediaId, [{ bibs: this.sightings, faces: await this.trackFaces() }]);
  }

  /** Gives each face of the frame to the person track whose head it is, keeping each track's best one. */
  private async noteFaces(image: RgbImage, index: number, timestamp: number, scale: number, persons: readonly TrackedPerson[]): Promise<void> {
    const s = this.faceSettings;
    if (!s) return;
    let found;
    try {
      found = await findFacesInPixels(this.deps, image, faceOptions(s, false, { keepAligned: true }));
    } catch (err) {
      if (err instanceof AppError && err.code === 'MODEL_UNAVAILABLE') {
        this.faceSettings = null;
        return;
      }
      throw err;
    }
    const boxes = persons.map((p) => p.box);
    for (const f of found.faces) {
      const box = { x1: f.box.x1 * scale, y1: f.box.y1 * scale, x2: f.box.x2 * scale, y2: f.box.y2 * scale };
      const trackId = persons[personOfFace(box, boxes)]?.trackId;
      if (trackId === undefined || trackId === null || !f.aligned) continue;
      const prev = this.faces.get(trackId);
      if (!prev || f.quality.score > prev.score) this.faces.set(trackId, { aligned: f.aligned, score: f.quality.score, box: roundBox(box), frameIndex: index, timestamp });
    }
  }

  /** Each track's best face, embedded once, with the number its track settled on. */
  private async trackFaces(): Promise<MediaFaceRecord[]> {
    const s = this.faceSettings;
    if (!s || this.faces.size === 0) return [];
    let embedder;
    try {
      embedder = await this.deps.models.require(s.embedder, 'face-embed');
    } catch (err) {
      if (err instanceof AppError && err.code === 'MODEL_UNAVAILABLE') return [];
      throw err;
    }
    const numbers = new Map(this.summary().bib_tracks.map((t) => [t.track_id as number, t.bib_number as string]));
    const out: MediaFaceRecord[] = [];
    for (const [trackId, f] of this.faces) {
      const embedding = await embedAligned(this.deps, embedder, f.aligned);
      out.push({ id: randomUUID(), model: embedder.manifest.id, embedding, box: f.box, bibNumber: numbers.get(trackId) ?? null, frameIndex: f.frameIndex, timestamp: f.timestamp });
    }
    return out;
  }

  private settled(trackId: number): boolean {
    const v = this.votes.get(trackId);
    return !!v && [...v.byNumber.values()].some((n) => n.count >= SETTLED_VOTES);
  }

  private vote(trackId: number, number: string, confidence: number, timestamp: number): void {
    const v: Votes = this.votes.get(trackId) ?? { byNumber: new Map<string, { sum: number; count: number }>(), first: timestamp, last: timestamp };
    const n = v.byNumber.get(number) ?? { sum: 0, count: 0 };
    n.sum += confidence;
    n.count++;
    v.byNumber.set(number, n);
    v.last = timestamp;
    this.votes.set(trackId, v);
  }
}

function sameBox(a: Box, b: Box): boolean {
  return Math.abs(a.x1 - b.x1) < 0.6 && Math.abs(a.y1 - b.y1) < 0.6 && Math.abs(a.x2 - b.x2) < 0.6 && Math.abs(a.y2 - b.y2) < 0.6;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
