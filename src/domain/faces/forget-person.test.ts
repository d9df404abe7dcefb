import { describe, expect, it } from 'vitest';
import { withoutPerson } from './forget-person.js';

describe('withoutPerson', () => {
  const gone = '6f1c1c0e-9a43-4d53-8d0e-3c1f7c1a2b3c';
  const kept = { person_id: 'b1', person_name: 'Kept', similarity: 0.7 };

  it('drops the matches that name the person, at any depth, and keeps the rest', () => {
    const result = {
      faces: { faces: [{ box: { x1: 1 }, matches: [{ person_id: gone, person_name: 'Gone', similarity: 0.9 }, kept] }] },
      face_tracks: [{ track_id: 3, matches: [{ person_id: gone, person_name: 'Gone', similarity: 0.8 }] }],
    };
    const out = withoutPerson(result, gone);
    expect(out.changed).toBe(true);
    expect(out.value.faces.faces[0]!.matches).toEqual([kept]);
    expect(out.value.face_tracks[0]!.matches).toEqual([]);
    expect(out.value.faces.faces[0]!.box).toEqual({ x1: 1 });
    expect(JSON.stringify(out.value)).not.toContain('Gone');
    // The input is left as it was.
    expect(result.face_tracks[0]!.matches).toHaveLength(1);
  });

  it('says nothing changed when the person is not named', () => {
    const items = [{ faces: { faces: [{ matches: [kept] }] } }, null, 3, 'text'];
    const out = withoutPerson(items, gone);
    expect(out.changed).toBe(false);
    expect(out.value).toBe(items);
  });
});
