import { useEffect, useState } from 'preact/hooks';
import { api, unwrap, type Schemas } from '../../lib/api';
import { formatDate } from '../../lib/format';
import { inputMediaId, isFinal, jobState, watchJob, type Job } from '../../lib/jobs';
import { Empty, ErrorNote } from '../../components/ErrorNote';
import { Progress } from '../../components/Progress';

/** `/jobs/{id}`: one job — live progress, per-item results of batches, the result, cancel, and the deliveries log. */
export default function JobDetail({ id }: { id: string }) {
  const [job, setJob] = useState<Job | null>(null);
  const [deliveries, setDeliveries] = useState<Schemas['DeliveryList'] | null>(null);
  const [events, setEvents] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    api.GET('/api/v1/jobs/{id}', { params: { path: { id } } }).then((r) => setJob(unwrap(r))).catch(setError);
    api.GET('/api/v1/jobs/{id}/deliveries', { params: { path: { id } } }).then((r) => setDeliveries(unwrap(r))).catch(setError);
  }, [id, reload]);

  const running = job !== null && !isFinal(jobState(job));
  useEffect(() => {
    if (!running) return;
    return watchJob(id, {
      progress: (p) => setJob((j) => (j ? { ...j, progress: { ...p, percent: p.total ? (p.done / p.total) * 100 : 0 } } : j)),
      item: () => setEvents((n) => n + 1),
      frame: () => setEvents((n) => n + 1),
      closed: () => setReload((n) => n + 1),
    });
  }, [id, running]);

  const cancel = async () => {
    try {
      unwrap(await api.DELETE('/api/v1/jobs/{id}', { params: { path: { id } } }));
      setReload((n) => n + 1);
    } catch (err) {
      setError(err);
    }
  };

  if (!job) return error ? <ErrorNote error={error} /> : <p class="loading">Loading…</p>;
  const state = jobState(job);
  return (
    <section class="job">
      <p class="crumbs">
        <a href="/jobs">Jobs</a> / {job.job_id}
      </p>
      <h1>
        Job {job.job_id.slice(0, 8)} <span class={`state state-${state}`}>{state}</span>
      </h1>
      <ErrorNote error={error} />
      <dl class="facts-list">
        <dt>Kind</dt>
        <dd>{job.kind}</dd>
        <dt>Tasks</dt>
        <dd>{job.tasks.join(', ')}</dd>
        <dt>Created</dt>
        <dd>{formatDate(job.created_at)}</dd>
        <dt>Finished</dt>
        <dd>{formatDate(job.finished_at)}</dd>
        <dt>Attempts</dt>
        <dd>{job.attempts}</dd>
        {job.error && (
          <>
            <dt>Error</dt>
            <dd class="error-text">{job.error}</dd>
          </>
        )}
      </dl>
      <Progress done={job.progress.done} total={job.progress.total} label="Job progress" />
      {running && (
        <p>
          {events} live event(s) so far.{' '}
          <button type="button" class="danger" onClick={() => void cancel()}>
            Cancel job
          </button>
        </p>
      )}
      <h2>Inputs</h2>
      <ul>
        {job.inputs.map((input, i) => {
          const m = inputMediaId(input);
          return <li key={i}>{m ? <a href={`/media/${m}`}>{m}</a> : <code>{JSON.stringify(input)}</code>}</li>;
        })}
      </ul>
      {job.items && job.items.length > 0 && (
        <>
          <h2>Items</h2>
          <table class="table">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Medium</th>
                <th scope="col">Outcome</th>
              </tr>
            </thead>
            <tbody>
              {job.items.map((item, i) => {
                const it = (item ?? null);
                return (
                  <tr key={i}>
                    <td>{i + 1}</td>
                    <td>{typeof it?.media_id === 'string' ? <a href={`/media/${it.media_id}`}>{typeof it.name === 'string' ? it.name : it.media_id}</a> : '—'}</td>
                    <td>{it === null ? 'pending' : 'error' in it ? <span class="error-text">{String(it.error)}</span> : summarise(it)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </>
      )}
      {job.result && (
        <details>
          <summary>Result (JSON)</summary>
          <pre class="json">{JSON.stringify(job.result, null, 2)}</pre>
        </details>
      )}
      <h2>Deliveries</h2>
      {deliveries && deliveries.items.length === 0 && <Empty>No webhook or callback deliveries for this job. Register a webhook in Settings, or send a callback_url with the job.</Empty>}
      {deliveries && deliveries.items.length > 0 && <DeliveryTable deliveries={deliveries} />}
    </section>
  );
}

function summarise(item: Record<string, unknown>): string {
  const parts: string[] = [];
  const count = (v: unknown, key: string) => (v && typeof v === 'object' && Array.isArray((v as Record<string, unknown>)[key]) ? ((v as Record<string, unknown>)[key] as unknown[]).length : 0);
  if (item.detect) parts.push(`${count(item.detect, 'detections')} object(s)`);
  if (item.faces) parts.push(`${count(item.faces, 'faces')} face(s)`);
  if (item.bibs) parts.push(`${count(item.bibs, 'detections')} bib(s)`);
  if (item.blur && typeof item.blur === 'object') parts.push((item.blur as Record<string, unknown>).is_blurry ? 'blurry' : 'sharp');
  return parts.join(', ') || 'done';
}

/** Deliveries with every attempt. */
export function DeliveryTable({ deliveries }: { deliveries: Schemas['DeliveryList'] }) {
  return (
    <table class="table">
      <thead>
        <tr>
          <th scope="col">Target</th>
          <th scope="col">Event</th>
          <th scope="col">State</th>
          <th scope="col">Attempts</th>
        </tr>
      </thead>
      <tbody>
        {deliveries.items.map((d) => (
          <tr key={d.id}>
            <td>{d.url}</td>
            <td>{d.event}</td>
            <td>{d.status}</td>
            <td>
              <ul class="attempts">
                {d.attempts.map((a, i) => (
                  <li key={i}>
                    {formatDate(a.at)}: {a.status_code ?? '—'} {a.error ?? ''} ({a.duration_ms} ms)
                  </li>
                ))}
              </ul>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
