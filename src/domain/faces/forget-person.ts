/**
 * Forgetting a deleted person in stored JSON (job results, SSE events, queued webhook bodies): every match that
 * names them (`{person_id, person_name, similarity}` in a `matches` list) is dropped, so their name and id do not
 * outlive them in results the API still serves or sends.
 */

/** `value` without array entries that are objects with `person_id === personId`; `changed` says whether any went. */
export function withoutPerson<T>(value: T, personId: string): { value: T; changed: boolean } {
  let changed = false;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) {
      const kept = v.filter((x) => !(isRecord(x) && x.person_id === personId));
      if (kept.length !== v.length) changed = true;
      return kept.map(walk);
    }
    if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  const out = walk(value) as T;
  return { value: changed ? out : value, changed };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
