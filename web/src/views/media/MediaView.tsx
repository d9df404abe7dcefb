import { useEffect, useState } from 'preact/hooks';
import { api, unwrap, type Schemas } from '../../lib/api';
import { formatBytes, formatDate } from '../../lib/format';
import { ErrorNote } from '../../components/ErrorNote';
import { ImageView } from './ImageView';
import { VideoView } from './VideoView';

/** `/media/{id}`: one medium — the image view for photos, the video view for videos. */
export default function MediaView({ id }: { id: string }) {
  const [record, setRecord] = useState<Schemas['Media'] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () => api.GET('/api/v1/media/{id}', { params: { path: { id } } }).then((r) => setRecord(unwrap(r))).catch(setError);
  useEffect(() => {
    setRecord(null);
    void load();
  }, [id]);
  if (error) return <ErrorNote error={error} />;
  if (!record) return <p class="loading">Loading…</p>;
  return (
    <section class="media-view">
      <p class="crumbs">
        <a href="/media">Media library</a> / {record.name}
      </p>
      <h1>{record.name}</h1>
      <p class="facts">
        {record.kind} · {formatBytes(record.size)} · {record.content_type} · uploaded {formatDate(record.created_at)} ·{' '}
        <span class={`status status-${record.status_name}`}>
          {record.status_name}
          {record.status_reason ? `: ${record.status_reason}` : ''}
        </span>{' '}
        · <a href={record.content_url}>original file</a>
      </p>
      {/* An analysis that ends moves the medium's status (AIProcessed or Error): read it again. */}
      {record.kind === 'video' ? <VideoView media={record} onAnalysed={() => void load()} /> : <ImageView media={record} onAnalysed={() => void load()} />}
    </section>
  );
}
