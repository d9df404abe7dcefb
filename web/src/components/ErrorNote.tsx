import { describeError } from '../lib/api';

/** An API error as the user should see it: the message, and the request id to quote in a report. */
export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const e = describeError(error);
  return (
    <div class="error" role="alert">
      <strong>{e.code ? `${e.code}: ` : ''}</strong>
      {e.message}
      {e.requestId && <span class="request-id"> (request id {e.requestId})</span>}
    </div>
  );
}

/** What to show when a list is empty: what it would hold, and what to do next. */
export function Empty({ children }: { children: preact.ComponentChildren }) {
  return <p class="empty">{children}</p>;
}
