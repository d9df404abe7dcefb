/**
 * Bib and face fusion: a runner's bib and face seen on the same person tell who carries the bib. The person is the
 * object detector's person box holding both; when the detector found no person around them (a tight crop, a
 * partly hidden runner), the body is estimated from the face: about three face-widths wide and seven face-heights
 * tall below the top of the head, which holds the chest where bibs are worn.
 */
import { boxArea, type Box } from '../geometry.js';
import { centreInside } from './bib-number.js';

/** A bib reading with the person box it was read in (null when read on the whole image). */
export interface PlacedBib {
  readonly number: string;
  readonly confidence: number;
  readonly box: Box;
  readonly personBox: Box | null;
}

/** The body a face belongs to when no person box is known. */
export function bodyFromFace(face: Box): Box {
  const w = face.x2 - face.x1;
  const h = face.y2 - face.y1;
  const cx = (face.x1 + face.x2) / 2;
  return { x1: cx - 1.6 * w, y1: face.y1, x2: cx + 1.6 * w, y2: face.y2 + 6 * h };
}

/** Whether a face sits where a head is, in the upper part of a person box. */
function headOf(face: Box, person: Box): boolean {
  const top = { ...person, y2: person.y1 + 0.45 * (person.y2 - person.y1) };
  return centreInside(face, top);
}

/** The index of the smallest person box whose head region holds `face`, or -1 (video: which person track it is). */
export function personOfFace(face: Box, persons: readonly Box[]): number {
  let best = -1;
  persons.forEach((person, i) => {
    if (headOf(face, person) && (best < 0 || boxArea(person) < boxArea(persons[best] as Box))) best = i;
  });
  return best;
}

/**
 * For each face (by index), the bib number its person carries, or null. A face takes the bib of the smallest
 * person box holding both it (as the head) and the bib; failing that, a bib inside the body estimated from the
 * face, the closest one when several faces reach it. A bib goes to one face only.
 */
export function bibsOfFaces(faces: readonly Box[], bibs: readonly PlacedBib[], persons: readonly Box[]): (string | null)[] {
  const out: (string | null)[] = faces.map(() => null);
  const taken = new Set<number>();
  faces.forEach((face, fi) => {
    let best: { bib: number; area: number } | null = null;
    for (const person of persons) {
      if (!headOf(face, person)) continue;
      bibs.forEach((b, bi) => {
        if (taken.has(bi) || !centreInside(b.box, person)) return;
        const area = boxArea(person);
        if (!best || area < best.area) best = { bib: bi, area };
      });
    }
    if (best) {
      const { bib } = best as { bib: number };
      out[fi] = (bibs[bib] as PlacedBib).number;
      taken.add(bib);
    }
  });
  // Faces still without a bib: the estimated body, nearest face first for each bib.
  bibs.forEach((b, bi) => {
    if (taken.has(bi)) return;
    let best: { face: number; distance: number } | null = null;
    faces.forEach((face, fi) => {
      if (out[fi] !== null || !centreInside(b.box, bodyFromFace(face))) return;
      const distance = Math.hypot((face.x1 + face.x2 - b.box.x1 - b.box.x2) / 2, (face.y1 + face.y2 - b.box.y1 - b.box.y2) / 2);
      if (!best || distance < best.distance) best = { face: fi, distance };
    });
    if (best) {
      out[(best as { face: number }).face] = b.number;
      taken.add(bi);
    }
  });
  return out;
}
