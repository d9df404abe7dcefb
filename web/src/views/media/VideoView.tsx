import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, unwrap, type Schemas } from '../../lib/api';
import { colourOf, formatTime } from '../../lib/format';
import { isFinal, jobState, watchJob, type Job } from '../../lib/jobs';
import { readFrame, readTracks, type FrameBoxes, type Track } from '../../lib/results';
import { route } from '../../lib/router';
import { ErrorNote } from '../../components/ErrorNote';
import { Overlay, type OverlayBox } from '../../components/Overlay';
import { Progress } from '../../components/Progress';
import { analyse, jobDetail, jobsFor } from './stored';

/** Seconds of frames fetched around the playhead at a time (a page of up to 1000 analysed frames). */
const WINDOW_S = 30;

/**
 * The video view: the player with the analysed frames' boxes drawn in sync with playback — each analysed frame's
 * boxes are held until the next analysed frame — fetched by time range from GET /jobs/{id}/frames as the playhead
 * moves, track colours stable per track id, and the track list, which seeks to a track's first sighting.
 */
export function VideoView({ media, onAnalysed }: { media: Schemas['Media']; onAnalysed?: () => void }) {
  const video = useRef<HTMLVideoElement>(null);
  const [size, setSize] = useState({ width: 0, height: 0 });
  const [job, setJob] = useState<Job | null | undefined>(undefined);
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [current, setCurrent] = useState<FrameBoxes | null>(null);
  const [tasks, setTasks] = useState({ faces: false, bibs: false });
  const [error, setError] = useState<unknown>(null);
  // Frames by index, sorted by time on use; the time ranges already fetched.
  const frames = useRef(new Map<number, FrameBoxes>());
  const sorted = useRef<FrameBoxes[]>([]);
  const fetched = useRef<[number, number][]>([]);
  const loading = useRef(new Set<number>());

  const addFrames = (list: FrameBoxes[]) => {
    for (const f of list) frames.current.set(f.index, f);
    sorted.current = [...frames.current.values()].sort((a, b) => a.timestamp - b.timestamp);
  };

  /** The last analysed frame at or before `t` (held until the next one). */
  const frameAt = (t: number): FrameBoxes | null => {
    const list = sorted.current;
    let lo = 0;
    let hi = list.length - 1;
    let found: FrameBoxes | null = null;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.timestamp <= t + 1e-3) {
        found = list[mid]!;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };

  const ensureFrames = useCallback(async (jobId: string, t: number) => {
    const from = Math.max(0, Math.floor(t / WINDOW_S) * WINDOW_S);
    if (fetched.current.some(([a, b]) => a <= t && t < b) || loading.current.has(from)) return;
    loading.current.add(from);
    try {
      // A frame held from before the window starts is needed at its start too: fetch a little earlier.
      let after: number | undefined;
      for (;;) {
        const page = unwrap(await api.GET('/api/v1/jobs/{id}/frames', { params: { path: { id: jobId }, query: { from: Math.max(0, from - 2), to: from + WINDOW_S, limit: 1000, ...(after !== undefined ? { after } : {}) } } }));
        addFrames(page.items.map((f) => readFrame(f as Record<string, unknown>)));
        if (page.next_after === null) break;
        after = page.next_after;
      }
      fetched.current.push([from, from + WINDOW_S]);
    } finally {
      loading.current.delete(from);
    }
  }, []);

  const sync = useCallback(() => {
    const v = video.current;
    if (!v) return;
    setCurrent(frameAt(v.currentTime));
    if (job && jobState(job) === 'SUCCESS') {
      void ensureFrames(job.job_id, v.currentTime).then(() => setCurrent(frameAt(v.currentTime))).catch(setError);
      // The next window before the playhead reaches it.
      if (v.currentTime % WINDOW_S > WINDOW_S - 5) void ensureFrames(job.job_id, v.currentTime + 5);
    }
  }, [job, ensureFrames]);

  // The video's analysis: the newest finished one, else one still running.
  useEffect(() => {
    let stop: (() => void) | undefined;
    (async () => {
      const jobs = (await jobsFor(media.id)).filter((j) => j.kind === 'video');
      const pick = jobs.find((j) => jobState(j) === 'SUCCESS') ?? jobs.find((j) => !isFinal(jobState(j)));
      if (!pick) return setJob(null);
      const detail = await jobDetail(pick.job_id);
      setJob(detail);
      if (!isFinal(jobState(detail))) stop = follow(detail.job_id);
    })().catch(setError);
    return () => stop?.();
  }, [media.id]);

  // Playback: boxes follow each presented video frame (requestVideoFrameCallback), or timeupdate where it is missing.
  useEffect(() => {
    const v = video.current;
    if (!v) return;
    let handle = 0;
    const hasRvfc = 'requestVideoFrameCallback' in v;
    const onFrame = () => {
      sync();
      handle = v.requestVideoFrameCallback(onFrame);
    };
    if (hasRvfc) handle = v.requestVideoFrameCallback(onFrame);
    v.addEventListener('seeked', sync);
    v.addEventListener('timeupdate', sync);
    return () => {
      if (hasRvfc) v.cancelVideoFrameCallback(handle);
      v.removeEventListener('seeked', sync);
      v.removeEventListener('timeupdate', sync);
    };
  }, [sync]);

  // A deep link to a moment (?t=seconds), e.g. from a face or bib search.
  useEffect(() => {
    const t = Number(route.value.query.get('t'));
    const v = video.current;
    if (v && Number.isFinite(t) && t > 0) {
      const seek = () => (v.currentTime = t);
      if (v.readyState >= 1) seek();
      else v.addEventListener('loadedmetadata', seek, { once: true });
    }
  }, [media.id]);

  function follow(id: string): () => void {
    return watchJob(id, {
      progress: (p) => setProgress(p),
      frame: (f) => {
        addFrames([readFrame(f)]);
        sync();
      },
      closed: () => {
        onAnalysed?.();
        void jobDetail(id).then((j) => {
          setJob(j);
          if (jobState(j) === 'FAILED') setError(new Error(j.error ?? 'the analysis failed'));
        }).catch(setError);
      },
    });
  }

  const start = async () => {
    setError(null);
    try {
      const id = await analyse(media.id, ['detect', ...(tasks.faces ? ['faces'] : []), ...(tasks.bibs ? ['bibs'] : [])]);
      frames.current.clear();
      sorted.current = [];
      fetched.current = [];
      setJob(await jobDetail(id));
      setProgress({ done: 0, total: 0 });
      follow(id);
    } catch (err) {
      setError(err);
    }
  };

  /**
   * Seeks to a track's first sighting: the first analysed frame that carries its id (a track is confirmed after a
   * few hits, so its very first detections may have none), or its first time when no frame says so.
   */
  const seekTo = async (track: Track) => {
    const v = video.current;
    if (!v || !job) return;
    v.pause();
    let at = track.firstTime;
    try {
      await ensureFrames(job.job_id, track.firstTime);
      const first = sorted.current.find((f) => f.timestamp >= track.firstTime - 1e-3 && f.timestamp <= track.lastTime + 1e-3 && f.boxes.some((b) => b.trackId === track.id));
      if (first) at = first.timestamp;
    } catch (err) {
      setError(err);
    }
    v.currentTime = at;
  };

  // The uploaded file when this browser may play its type, else (or once it fails to play) the server's MP4 copy:
  // AVI, MPEG-4 Part 2 or HEVC uploads do not play in most browsers.
  const playback = `/api/v1/media/${media.id}/playback`;
  const [src, setSrc] = useState(() => (document.createElement('video').canPlayType(media.content_type) ? media.content_url : playback));
  useEffect(() => setSrc(document.createElement('video').canPlayType(media.content_type) ? media.content_url : playback), [media.id]);

  const tracks = job ? readTracks(job.result) : [];
  const boxes: OverlayBox[] = (current?.boxes ?? []).map((b, i) => ({
    key: `${current!.index}-${i}`,
    ...b.box,
    label: b.trackId !== null ? `#${b.trackId} ${b.label}` : b.label,
    colour: b.trackId !== null ? colourOf(b.trackId) : '#666',
    layer: 'track',
  }));
  const state = job ? jobState(job) : null;

  return (
    <div class="viewer">
      <div class="stage">
        <div class="media-frame">
          <video
            ref={video}
            src={src}
            controls
            preload="metadata"
            onError={() => {
              if (src !== playback) setSrc(playback);
            }}
            data-testid="player"
            aria-label={`Video ${media.name}`}
            onLoadedMetadata={(e) => setSize({ width: e.currentTarget.videoWidth, height: e.currentTarget.videoHeight })}
          />
          <Overlay width={size.width} height={size.height} boxes={boxes} />
        </div>
        <p class="frame-info" data-testid="frame-info" aria-live="off">
          {current ? `Analysed frame ${current.index} at ${formatTime(current.timestamp)}: ${current.boxes.length} box(es)` : job ? 'No analysed frame at this time yet.' : ''}
        </p>
      </div>
      <aside class="controls" aria-label="Analysis">
        <h2>Analysis</h2>
        <ErrorNote error={error} />
        {job === undefined && <p class="loading">Looking for an analysis…</p>}
        {job === null && <p class="empty">This video has not been analysed yet. Start an analysis: boxes appear on the player as frames are done.</p>}
        {job && (
          <p>
            Job <a href={`/jobs/${job.job_id}`}>{job.job_id.slice(0, 8)}</a>: <span class={`state state-${state}`}>{state}</span>
          </p>
        )}
        {job && state && !isFinal(state) && <Progress done={progress?.done ?? job.progress.done} total={progress?.total ?? job.progress.total} label="Analysis progress" />}
        {(job === null || (state && isFinal(state))) && (
          <div class="buttons">
            <label>
              <input type="checkbox" checked={tasks.faces} onChange={(e) => setTasks((t) => ({ ...t, faces: e.currentTarget.checked }))} /> faces
            </label>
            <label>
              <input type="checkbox" checked={tasks.bibs} onChange={(e) => setTasks((t) => ({ ...t, bibs: e.currentTarget.checked }))} /> bibs
            </label>
            <button type="button" onClick={() => void start()}>
              {job ? 'Analyse again' : 'Analyse'}
            </button>
          </div>
        )}
        {tracks.length > 0 && (
          <>
            <h2>Tracks ({tracks.length})</h2>
            <ul class="tracks" data-testid="tracks">
              {tracks.map((t) => (
                <li key={t.id}>
                  <button type="button" class="track" onClick={() => void seekTo(t)} data-track-id={t.id} data-first-time={t.firstTime}>
                    <span class="swatch" style={{ background: colourOf(t.id) }} aria-hidden="true" />#{t.id} {t.label} {formatTime(t.firstTime)}–{formatTime(t.lastTime)}
                    {t.bib && <span class="bib"> bib {t.bib}</span>}
                  </button>
                </li>
              ))}
            </ul>
          </>
        )}
      </aside>
    </div>
  );
}
