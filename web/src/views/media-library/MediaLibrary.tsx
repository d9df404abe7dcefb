import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, unwrap, upload, type Schemas } from '../../lib/api';
import { formatBytes, formatDate } from '../../lib/format';
import { navigate, route } from '../../lib/router';
import { useSignal } from '../../lib/signal';
import { progressFetch } from '../../lib/xhr-fetch';
import { Empty, ErrorNote } from '../../components/ErrorNote';

type Media = Schemas['Media'];
const PAGE = 24;
const STATUSES = ['New', 'AIProcessing', 'AIProcessed', 'Error'] as const;

interface UploadItem {
  readonly id: number;
  readonly name: string;
  sent: number;
  total: number;
  state: 'uploading' | 'done' | 'failed';
  result?: Media;
  error?: unknown;
}

/** The media library: upload (drag and drop or picker, per-file progress), a grid of thumbnails, filters, pages, delete. */
export function MediaLibrary() {
  const { query } = useSignal(route);
  const kind = query.get('kind') ?? '';
  const status = query.get('status') ?? '';
  const offset = Math.max(0, Number(query.get('offset') ?? 0) || 0);
  const [page, setPage] = useState<Schemas['MediaList'] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [uploads, setUploads] = useState<UploadItem[]>([]);
  const [dragging, setDragging] = useState(false);
  const counter = useRef(0);
  const input = useRef<HTMLInputElement>(null);

  const load = useCallback(async () => {
    try {
      const q: { limit: number; offset: number; kind?: 'image' | 'video'; status?: (typeof STATUSES)[number] } = { limit: PAGE, offset };
      if (kind === 'image' || kind === 'video') q.kind = kind;
      if ((STATUSES as readonly string[]).includes(status)) q.status = status as (typeof STATUSES)[number];
      setPage(unwrap(await api.GET('/api/v1/media', { params: { query: q } })));
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, [kind, status, offset]);

  useEffect(() => {
    void load();
  }, [load]);

  const setFilter = (name: string, value: string) => {
    const q = new URLSearchParams(query);
    if (value) q.set(name, value);
    else q.delete(name);
    q.delete('offset');
    navigate(`/media${q.size ? `?${q.toString()}` : ''}`);
  };

  const send = async (files: File[]) => {
    // Two at a time: enough to keep the connection busy, and the rest of the page still gets through.
    const items = files.map((f) => ({ id: ++counter.current, name: f.name, sent: 0, total: f.size, state: 'uploading' as const }));
    setUploads((u) => [...items, ...u]);
    const update = (id: number, change: Partial<UploadItem>) => setUploads((u) => u.map((x) => (x.id === id ? { ...x, ...change } : x)));
    let next = 0;
    const worker = async () => {
      while (next < files.length) {
        const i = next++;
        const file = files[i]!;
        const item = items[i]!;
        try {
          const res = await api.POST('/api/v1/media', { ...upload({ file }), fetch: progressFetch((sent, total) => update(item.id, { sent, total })) });
          update(item.id, { state: 'done', result: unwrap(res), sent: file.size });
        } catch (err) {
          update(item.id, { state: 'failed', error: err });
        }
      }
    };
    await Promise.all([worker(), worker()]);
    await load();
  };

  const remove = async (m: Media) => {
    if (!confirm(`Delete ${m.name}? Its results go with it.`)) return;
    try {
      unwrap(await api.DELETE('/api/v1/media/{id}', { params: { path: { id: m.id } } }));
      await load();
    } catch (err) {
      setError(err);
    }
  };

  const go = (o: number) => {
    const q = new URLSearchParams(query);
    if (o > 0) q.set('offset', String(o));
    else q.delete('offset');
    navigate(`/media${q.size ? `?${q.toString()}` : ''}`);
  };

  return (
    <section class="media-library">
      <h1>Media library</h1>
      <div
        class={`dropzone${dragging ? ' dragging' : ''}`}
        data-testid="dropzone"
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => {
          e.preventDefault();
          setDragging(false);
          const files = [...(e.dataTransfer?.files ?? [])];
          if (files.length) void send(files);
        }}
      >
        <p>Drop photos and videos here, or</p>
        <label class="button" for="upload-input">
          Choose files
        </label>
        <input
          id="upload-input"
          ref={input}
          class="visually-hidden"
          type="file"
          multiple
          accept="image/*,video/*"
          onChange={(e) => {
            const files = [...(e.currentTarget.files ?? [])];
            e.currentTarget.value = '';
            if (files.length) void send(files);
          }}
        />
      </div>
      {uploads.length > 0 && (
        <ul class="uploads" aria-label="Uploads">
          {uploads.map((u) => (
            <li key={u.id} class={`upload ${u.state}`} data-state={u.state}>
              <span class="name">{u.name}</span>
              <progress max={u.total || 1} value={u.sent} aria-label={`Upload of ${u.name}`} />
              <span>
                {u.state === 'uploading' && `${formatBytes(u.sent)} of ${formatBytes(u.total)}`}
                {u.state === 'done' && u.result && <a href={`/media/${u.result.id}`}>Open</a>}
              </span>
              {u.state === 'failed' && <ErrorNote error={u.error} />}
            </li>
          ))}
        </ul>
      )}
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <label>
          Kind{' '}
          <select value={kind} onChange={(e) => setFilter('kind', e.currentTarget.value)}>
            <option value="">All</option>
            <option value="image">Images</option>
            <option value="video">Videos</option>
          </select>
        </label>
        <label>
          Status{' '}
          <select value={status} onChange={(e) => setFilter('status', e.currentTarget.value)}>
            <option value="">All</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        {page && <span class="count">{page.total} in all</span>}
      </form>
      <ErrorNote error={error} />
      {page && page.items.length === 0 && (
        <Empty>{kind || status ? 'Nothing matches these filters. Clear them to see everything.' : 'No media yet. Drop a photo or a video above to upload it, then open it to analyse it.'}</Empty>
      )}
      {page && page.items.length > 0 && (
        <ul class="grid" aria-label="Media">
          {page.items.map((m) => (
            <li key={m.id} class="card" data-media-id={m.id}>
              <a href={`/media/${m.id}`} class="thumb">
                <img src={`/api/v1/media/${m.id}/thumbnail`} alt={m.name} loading="lazy" />
              </a>
              <div class="meta">
                <a href={`/media/${m.id}`} class="title">
                  {m.name}
                </a>
                <span>
                  {m.kind} · {formatBytes(m.size)}
                </span>
                <span class={`status status-${m.status_name}`} title={m.status_reason ?? undefined}>
                  {m.status_name}
                  {m.status_reason ? `: ${m.status_reason}` : ''}
                </span>
                <span class="date">{formatDate(m.created_at)}</span>
                <button type="button" class="danger small" onClick={() => void remove(m)} aria-label={`Delete ${m.name}`}>
                  Delete
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
      {page && page.total > PAGE && (
        <nav class="pager" aria-label="Pages">
          <button type="button" disabled={offset === 0} onClick={() => go(Math.max(0, offset - PAGE))}>
            Previous
          </button>
          <span>
            {offset + 1}–{Math.min(offset + PAGE, page.total)} of {page.total}
          </span>
          <button type="button" disabled={offset + PAGE >= page.total} onClick={() => go(offset + PAGE)}>
            Next
          </button>
        </nav>
      )}
    </section>
  );
}
