import { describe, expect, it } from 'vitest';
import { bibsOfFaces, bodyFromFace, personOfFace } from './bib-fusion.js';

const person = { x1: 100, y1: 50, x2: 220, y2: 450 };
const face = { x1: 140, y1: 60, x2: 180, y2: 110 };
const bib = { number: '321', confidence: 0.95, box: { x1: 130, y1: 180, x2: 190, y2: 230 }, personBox: person };

describe('bibsOfFaces', () => {
  it('gives a face the bib in its person box', () => {
    expect(bibsOfFaces([face], [bib], [person])).toEqual(['321']);
  });
  it('does not give a bib to a face of another person', () => {
    const other = { x1: 400, y1: 60, x2: 440, y2: 110 };
    const otherPerson = { x1: 360, y1: 50, x2: 480, y2: 450 };
    expect(bibsOfFaces([other, face], [bib], [otherPerson, person])).toEqual([null, '321']);
  });
  it('a face in the lower part of a person box is not its head', () => {
    const low = { x1: 140, y1: 300, x2: 180, y2: 350 };
    expect(bibsOfFaces([low], [bib], [person])).toEqual([null]);
  });
  it('without person boxes, uses the body below the face, nearest face first', () => {
    const far = { x1: 140, y1: 0, x2: 160, y2: 20 };
    expect(bibsOfFaces([far, face], [bib], [])).toEqual([null, '321']);
    expect(bodyFromFace(face)).toEqual({ x1: 96, y1: 60, x2: 224, y2: 410 });
  });
  it('a bib far from any face stays unassigned', () => {
    const away = { ...bib, box: { x1: 600, y1: 600, x2: 650, y2: 640 } };
    expect(bibsOfFaces([face], [away], [])).toEqual([null]);
  });
});

describe('personOfFace', () => {
  it('is the smallest person box with the face as its head; -1 when none', () => {
    const crowd = { x1: 0, y1: 0, x2: 600, y2: 600 };
    expect(personOfFace(face, [crowd, person])).toBe(1);
    expect(personOfFace({ x1: 140, y1: 300, x2: 180, y2: 350 }, [person])).toBe(-1);
    expect(personOfFace(face, [])).toBe(-1);
  });
});
