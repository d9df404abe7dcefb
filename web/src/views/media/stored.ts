/** Finding what was already computed for a medium: its jobs, newest first. */
import { api, unwrap } from '../../lib/api';
import { inputMediaId, type Job } from '../../lib/jobs';

/** The caller's recent jobs whose inputs name this medium (newest first, at most the last 200 jobs looked at). */
export async function jobsFor(mediaId: string): Promise<Job[]> {
  const page = unwrap(await api.GET('/api/v1/jobs', { params: { query: { limit: 200, offset: 0 } } }));
  return page.items.filter((j) => j.inputs.some((i) => inputMediaId(i) === mediaId));
}

/** One job with its items and result. */
export async function jobDetail(id: string): Promise<Job> {
  return unwrap(await api.GET('/api/v1/jobs/{id}', { params: { path: { id } } }));
}

/** Queues an analysis of a stored medium; the job's id. */
export async function analyse(mediaId: string, tasks: string[]): Promise<string> {
  const accepted = unwrap(await api.POST('/api/v1/analyze', { body: { media_id: mediaId, tasks } }));
  return (accepted as { task_id: string }).task_id;
}
