/**
 * Bibs in video: the torso of each tracked person is read in the analysed frames until its track has a settled
 * number (the same reading twice), so a runner crossing the frame is read a few times, not once per frame. Frames
 * without persons are read whole. When the video ends each person track gets the number with the most confidence
 * summed over its readings, and every reading is stored with its frame and time for bib search.
 */
import { saveBibIndex } from '../app/bib-index.js';
import { bibOptionsFrom, recognizeBibsInPixels, type BibDeps, type BibOptions } from '../app/bibs.js';
import type { BibRepository, BibSightingRecord, Clock, JobRecord } from '../app/ports.js';
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

  constructor(
    private readonly deps: BibDeps & { bibs: BibRepository; clock: Clock },
    job: JobRecord,
  ) {
    this.opts = bibOptionsFrom(job.settings);
  }

  /** Reads the bibs of one frame; `scale` maps frame pixels to video pixels. */
  async frame(image: RgbImage, index: number, timestamp: number, scale: number, persons: readonly TrackedPerson[]): Promise<FrameBib[]> {
    const unsettled = persons.filter((p) => p.trackId === null || !this.settled(p.trackId));
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

  /** Stores every reading with the video, replacing a previous analysis of it. */
  async save(ownerId: string, mediaId: string): Promise<void> {
    await saveBibIndex(this.deps, ownerId, mediaId, [{ bibs: this.sightings, faces: [] }]);
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
