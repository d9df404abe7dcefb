import { useEffect, useState } from 'preact/hooks';
import { api, unwrap } from '../../lib/api';
import { formatDate } from '../../lib/format';
import { inputMediaId, isFinal, jobState, watchJob, type Job } from '../../lib/jobs';
import { Empty, ErrorNote } from '../../components/ErrorNote';
import { Progress } from '../../components/Progress';

/** Live streams at once: a browser opens at most 6 HTTP/1.1 connections per server, and the page needs some too. */
const MAX_STREAMS = 3;

/** `/jobs`: the caller's jobs, newest first, with progress bars that move live (SSE) for running jobs. */
export default function Jobs() {
  const [jobs, setJobs] = useState<Job[] | null>(null);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    api.GET('/api/v1/jobs', { params: { query: { limit: 50, offset: 0 } } }).then((r) => {
      const page = unwrap(r);
      setJobs(page.items);
      setTotal(page.total);
    }).catch(setError);
  }, [tick]);

  // Running jobs: progress from their event streams; the list is read again when one ends.
  const live = (jobs ?? []).filter((j) => !isFinal(jobState(j))).slice(0, MAX_STREAMS);
  const liveKey = live.map((j) => j.job_id).join(',');
  useEffect(() => {
    const stops = live.map((j) =>
      watchJob(j.job_id, {
        progress: (p) => setJobs((list) => list?.map((x) => (x.job_id === j.job_id ? { ...x, progress: { ...p, percent: p.total ? (p.done / p.total) * 100 : 0 } } : x)) ?? null),
        status: (s) => setJobs((list) => list?.map((x) => (x.job_id === j.job_id ? { ...x, status: s.status as Job['status'] } : x)) ?? null),
        closed: () => setTick((t) => t + 1),
      }),
    );
    // Others beyond the stream limit are polled.
    const poll = (jobs ?? []).some((j) => !isFinal(jobState(j))) && live.length === MAX_STREAMS ? setInterval(() => setTick((t) => t + 1), 5000) : undefined;
    return () => {
      for (const stop of stops) stop();
      if (poll) clearInterval(poll);
    };
    // the streams change only when the set of running jobs does
  }, [liveKey]);

  return (
    <section class="jobs">
      <h1>Jobs</h1>
      <ErrorNote error={error} />
      {jobs && jobs.length === 0 && <Empty>No jobs yet. Open a photo or a video in the media library and run an analysis; its job shows here with live progress.</Empty>}
      {jobs && jobs.length > 0 && (
        <table class="table">
          <caption class="visually-hidden">Jobs, newest first ({total} in all)</caption>
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Kind</th>
              <th scope="col">Tasks</th>
              <th scope="col">Input</th>
              <th scope="col">State</th>
              <th scope="col">Progress</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {jobs.map((j) => {
              const media = j.inputs.map(inputMediaId).filter(Boolean);
              const state = jobState(j);
              return (
                <tr key={j.job_id} data-job-id={j.job_id} data-state={state}>
                  <td>
                    <a href={`/jobs/${j.job_id}`}>{j.job_id.slice(0, 8)}</a>
                  </td>
                  <td>{j.kind}</td>
                  <td>{j.tasks.join(', ')}</td>
                  <td>{media.length === 1 ? <a href={`/media/${media[0]}`}>{media[0]}</a> : `${j.inputs.length} input(s)`}</td>
                  <td>
                    <span class={`state state-${state}`}>{state}</span>
                  </td>
                  <td>
                    <Progress done={j.progress.done} total={j.progress.total} label={`Progress of job ${j.job_id.slice(0, 8)}`} />
                  </td>
                  <td>{formatDate(j.created_at)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
