import { useEffect, useState } from 'preact/hooks';
import { api, unwrap, type Schemas } from '../../lib/api';
import { formatTime } from '../../lib/format';
import { navigate } from '../../lib/router';
import { Empty, ErrorNote } from '../../components/ErrorNote';

/** `/bibs` and `/bibs/{number}`: every photo and video moment where a bib number was read, or inferred from its runner's face. */
export default function Bibs({ number }: { number: string }) {
  const [value, setValue] = useState(number);
  const [result, setResult] = useState<Schemas['MediaByBibResult'] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    setValue(number);
    setResult(null);
    setError(null);
    if (!number) return;
    api.GET('/api/v1/bibs/{number}/media', { params: { path: { number } } }).then((r) => setResult(unwrap(r))).catch(setError);
  }, [number]);
  return (
    <section class="bibs">
      <h1>Bibs</h1>
      <form
        class="inline"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          const n = value.trim();
          if (n) navigate(`/bibs/${encodeURIComponent(n)}`);
        }}
      >
        <label for="bib-number">Bib number</label> <input id="bib-number" inputMode="numeric" pattern="[0-9]{1,6}" required value={value} onInput={(e) => setValue(e.currentTarget.value)} />{' '}
        <button type="submit">Find</button>
      </form>
      <ErrorNote error={error} />
      {!number && <Empty>Type a runner's number to see every photo and video moment where it was read, or where the runner's face was seen without it.</Empty>}
      {result && result.media.length === 0 && <Empty>Bib {result.bib_number} was not found. Photos are indexed by bib analyses (an image's "Read bibs", a bibs job, or /bibs/recognize with store=true).</Empty>}
      {result && result.media.length > 0 && (
        <>
          <p>
            Bib {result.bib_number}: {result.total} medi{result.total === 1 ? 'um' : 'a'}.
          </p>
          <ul class="grid" data-testid="bib-results">
            {result.media.map((m, i) => (
              <li key={`${m.media_id}-${i}`} class="card" data-media-id={m.media_id}>
                <a href={`/media/${m.media_id}${m.timestamp !== null ? `?t=${m.timestamp}` : ''}`} class="thumb">
                  <img src={`/api/v1/media/${m.media_id}/thumbnail`} alt={m.name} loading="lazy" />
                </a>
                <div class="meta">
                  <span class="title">{m.name}</span>
                  <span class={`reason ${m.inferred ? 'inferred' : 'read'}`}>
                    {m.inferred ? `Inferred: the runner's face (similarity ${Math.round(m.confidence * 100)}%), bib not visible` : `Read on the bib (confidence ${Math.round(m.confidence * 100)}%)`}
                  </span>
                  {m.timestamp !== null && <span>at {formatTime(m.timestamp)}</span>}
                </div>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
