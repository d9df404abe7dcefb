/**
 * Readers of analysis results. Job results are typed loosely by the API for now (records of unknown), so each
 * reader checks the shape it needs and ignores what it does not know: a change in the API shows as a missing
 * layer, never as a crash.
 */
import type { OverlayBox } from '../components/Overlay';
import { colourOf } from './format';

/** A box in image pixels. */
export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** One thing found on a photo, in any layer. */
export interface Found {
  readonly layer: 'detect' | 'faces' | 'bibs' | 'text';
  readonly box: Box;
  readonly label: string;
  readonly confidence: number;
  readonly polygon?: [number, number][];
}

function isBox(b: unknown): b is Box {
  if (!b || typeof b !== 'object') return false;
  const o = b as Record<string, unknown>;
  return ['x1', 'y1', 'x2', 'y2'].every((k) => typeof o[k] === 'number');
}

function list(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object') as Record<string, unknown>[]) : [];
}

const num = (v: unknown, d = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);
const str = (v: unknown, d = ''): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : d);

/** Detections of a /detect answer, a stored detection set, or a job item's `detect`. */
export function readDetections(report: unknown): Found[] {
  const r = (report ?? {}) as Record<string, unknown>;
  return list(r.detections).flatMap((d) => (isBox(d.box) ? [{ layer: 'detect' as const, box: d.box, label: str(d.label, '?'), confidence: num(d.confidence, 1) }] : []));
}

/** Faces of a faces answer (detect or search): the best match's name when there is one. */
export function readFaces(report: unknown): Found[] {
  const r = (report ?? {}) as Record<string, unknown>;
  return list(r.faces).flatMap((f) => {
    if (!isBox(f.box)) return [];
    const best = list(f.matches)[0];
    const label = best ? `${str(best.person_name, '?')} ${Math.round(num(best.similarity) * 100)}%` : 'face';
    return [{ layer: 'faces' as const, box: f.box, label, confidence: num(f.score, 1) }];
  });
}

/** Bib numbers of a bibs answer. */
export function readBibs(report: unknown): Found[] {
  const r = (report ?? {}) as Record<string, unknown>;
  return list(r.detections).flatMap((d) => (isBox(d.box) ? [{ layer: 'bibs' as const, box: d.box, label: `#${str(d.bib_number, '?')}`, confidence: num(d.confidence, 1) }] : []));
}

/** Text lines of a text answer. */
export function readText(report: unknown): Found[] {
  const r = (report ?? {}) as Record<string, unknown>;
  return list(r.lines).flatMap((l) => {
    if (!isBox(l.box)) return [];
    const polygon = Array.isArray(l.polygon) ? (l.polygon as unknown[]).filter((p): p is [number, number] => Array.isArray(p) && p.length === 2) : undefined;
    return [{ layer: 'text' as const, box: l.box, label: str(l.text), confidence: num(l.confidence, 1), ...(polygon?.length === 4 ? { polygon } : {}) }];
  });
}

/** Colours per layer (detections by label, so one class keeps one colour). */
export function boxesOf(found: readonly Found[]): OverlayBox[] {
  return found.map((f, i) => ({
    key: `${f.layer}-${i}`,
    ...f.box,
    label: f.layer === 'detect' ? `${f.label} ${Math.round(f.confidence * 100)}%` : f.label,
    colour: f.layer === 'detect' ? colourOf(f.label) : f.layer === 'faces' ? 'hsl(200 90% 35%)' : f.layer === 'bibs' ? 'hsl(30 95% 35%)' : 'hsl(280 70% 40%)',
    layer: f.layer,
    ...(f.polygon ? { polygon: f.polygon } : {}),
  }));
}

/** A video frame's boxes: detections with their track ids. */
export interface FrameBoxes {
  readonly index: number;
  readonly timestamp: number;
  readonly boxes: { box: Box; label: string; confidence: number; trackId: number | null }[];
}

/** Reads one stored or streamed video frame. */
export function readFrame(frame: Record<string, unknown>): FrameBoxes {
  return {
    index: num(frame.index),
    timestamp: num(frame.timestamp),
    boxes: list(frame.detections).flatMap((d) => {
      if (!isBox(d.box)) return [];
      const track = d.track_id ?? d.trackId;
      return [{ box: d.box, label: str(d.label, '?'), confidence: num(d.confidence, 1), trackId: typeof track === 'number' ? track : null }];
    }),
  };
}

/** A track of a video result. */
export interface Track {
  readonly id: number;
  readonly label: string;
  readonly firstTime: number;
  readonly lastTime: number;
  readonly hits: number;
  readonly bib: string | null;
}

/** The tracks of a video job's result (and the bib numbers read per track, when a bibs task ran). */
export function readTracks(result: unknown): Track[] {
  const r = (result ?? {}) as Record<string, unknown>;
  const bibs = new Map<number, string>();
  // bib_tracks: the number each person track settled on.
  for (const b of [...list(r.bib_tracks), ...list(r.bibs)]) {
    const t = b.track_id ?? b.trackId;
    const n = b.bib_number ?? b.number;
    if (typeof t === 'number' && str(n) && !bibs.has(t)) bibs.set(t, str(n));
  }
  return list(r.tracks).map((t) => {
    const id = num(t.track_id ?? t.id);
    return {
      id,
      label: str(t.label, '?'),
      firstTime: num(t.first_time ?? t.first_timestamp ?? t.start_time),
      lastTime: num(t.last_time ?? t.last_timestamp ?? t.end_time),
      hits: num(t.hits),
      bib: typeof t.bib_number === 'string' || typeof t.bib_number === 'number' ? String(t.bib_number) : (bibs.get(id) ?? null),
    };
  });
}
