/**
 * Jobs as the console sees them: a status name that works with the API's old and new vocabularies, and live
 * events over SSE (EventSource sends the session cookie by itself: same origin, path /api/).
 */
import type { Schemas } from './api';

/** A job as GET /jobs/{id} answers it. */
export type Job = Schemas['Job'];

/** The five states the console shows. */
export type JobState = 'PENDING' | 'PROCESSING' | 'SUCCESS' | 'FAILED' | 'CANCELLED';

const FROM_STATUS: Record<string, JobState> = { queued: 'PENDING', running: 'PROCESSING', succeeded: 'SUCCESS', failed: 'FAILED', cancelled: 'CANCELLED' };

/** A job's state, whichever field and spelling the server uses. */
export function jobState(job: { status: string; state?: string }): JobState {
  const s = String(job.status);
  if (s in FROM_STATUS) return FROM_STATUS[s]!;
  if (['PENDING', 'PROCESSING', 'SUCCESS', 'FAILED', 'CANCELLED'].includes(s)) return s as JobState;
  return (job.state as JobState | undefined) ?? 'PENDING';
}

/** True once a job has ended. */
export function isFinal(state: string): boolean {
  return ['SUCCESS', 'FAILED', 'CANCELLED', 'succeeded', 'failed', 'cancelled'].includes(state);
}

/** The media id a job input names (snake_case or camelCase), if any. */
export function inputMediaId(input: unknown): string | undefined {
  if (!input || typeof input !== 'object') return undefined;
  const i = input as Record<string, unknown>;
  const id = i.media_id ?? i.mediaId;
  return typeof id === 'string' ? id : undefined;
}

/** Handlers of a job's live events. */
export interface JobEventHandlers {
  progress?: (data: { done: number; total: number }) => void;
  item?: (data: Record<string, unknown>) => void;
  frame?: (data: Record<string, unknown>) => void;
  track?: (data: Record<string, unknown>) => void;
  status?: (data: { status: string; error_message?: string }) => void;
  /** The stream closed (the job ended, or the connection failed for good). */
  closed?: () => void;
}

/** Follows a job's events; returns a function that stops. */
export function watchJob(id: string, handlers: JobEventHandlers): () => void {
  const source = new EventSource(`/api/v1/jobs/${encodeURIComponent(id)}/events`, { withCredentials: true });
  let ended = false;
  const stop = () => {
    if (ended) return;
    ended = true;
    source.close();
    handlers.closed?.();
  };
  const on = (type: keyof Omit<JobEventHandlers, 'closed'>) =>
    source.addEventListener(type, (e) => {
      const data = JSON.parse((e as MessageEvent<string>).data) as never;
      (handlers[type] as ((d: never) => void) | undefined)?.(data);
      if (type === 'status' && isFinal((data as { status: string }).status)) stop();
    });
  for (const t of ['progress', 'item', 'frame', 'track', 'status'] as const) on(t);
  // EventSource reconnects by itself (with Last-Event-ID) after a dropped connection; CLOSED means it gave up.
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) stop();
  };
  return stop;
}
