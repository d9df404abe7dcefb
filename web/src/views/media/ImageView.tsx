import { useEffect, useRef, useState } from 'preact/hooks';
import { api, unwrap, upload, type Schemas } from '../../lib/api';
import { watchJob } from '../../lib/jobs';
import { boxesOf, readBibs, readDetections, readFaces, readText, type Found } from '../../lib/results';
import { ErrorNote } from '../../components/ErrorNote';
import { Overlay } from '../../components/Overlay';
import { analyse, jobDetail, jobsFor } from './stored';

type Layer = Found['layer'];
const LAYERS: { id: Layer; name: string }[] = [
  { id: 'detect', name: 'Objects' },
  { id: 'faces', name: 'Faces' },
  { id: 'bibs', name: 'Bibs' },
  { id: 'text', name: 'Text' },
];
type Task = Layer | 'blur';
const TASKS: { id: Task; name: string }[] = [
  { id: 'detect', name: 'Detect objects' },
  { id: 'faces', name: 'Find faces' },
  { id: 'bibs', name: 'Read bibs' },
  { id: 'text', name: 'Read text' },
  { id: 'blur', name: 'Check blur' },
];

/** One analysis item of a job (a photo's results by task). */
type Item = Record<string, unknown>;

/** The image view: the photo with every layer of results drawn over it, toggles, a confidence slider, and buttons to run each analysis. */
export function ImageView({ media, onAnalysed }: { media: Schemas['Media']; onAnalysed?: () => void }) {
  const [size, setSize] = useState({ width: 0, height: 0 });
  const [layers, setLayers] = useState<Record<Layer, Found[] | null>>({ detect: null, faces: null, bibs: null, text: null });
  const [visible, setVisible] = useState<Record<Layer, boolean>>({ detect: true, faces: true, bibs: true, text: true });
  const [minConfidence, setMinConfidence] = useState(0);
  const [running, setRunning] = useState<Partial<Record<Task, boolean>>>({});
  const [blur, setBlur] = useState<Record<string, unknown> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const stops = useRef<(() => void)[]>([]);

  const applyItem = (item: Item, only?: Task) => {
    const take = (task: Task) => !only || only === task;
    setLayers((l) => ({
      ...l,
      ...(take('detect') && item.detect ? { detect: readDetections(item.detect) } : {}),
      ...(take('faces') && item.faces ? { faces: readFaces(item.faces) } : {}),
      ...(take('bibs') && item.bibs ? { bibs: readBibs(item.bibs) } : {}),
    }));
    if (take('blur') && item.blur && typeof item.blur === 'object') setBlur(item.blur as Record<string, unknown>);
  };

  // What is already known: the stored detections, then the newest job result of each other task.
  useEffect(() => {
    let cancelled = false;
    (async () => {
      const stored = await api.GET('/api/v1/media/{id}/detections', { params: { path: { id: media.id } } });
      if (!cancelled && stored.data) setLayers((l) => ({ ...l, detect: l.detect ?? readDetections(stored.data) }));
      const jobs = (await jobsFor(media.id)).filter((j) => j.kind === 'image' || j.kind === 'batch');
      const seen = new Set<string>();
      for (const j of jobs.slice(0, 10)) {
        const todo = j.tasks.filter((t) => !seen.has(t));
        if (todo.length === 0) continue;
        const detail = await jobDetail(j.job_id);
        const item = (detail.items ?? []).find((i): i is Item => !!i && typeof i === 'object' && (i as Item).media_id === media.id);
        if (!item || 'error' in item || cancelled) continue;
        for (const t of todo) {
          if (item[t] === undefined) continue;
          seen.add(t);
          setLayers((l) => (t !== 'blur' && l[t as Layer] === null ? { ...l, [t]: t === 'detect' ? readDetections(item[t]) : t === 'faces' ? readFaces(item[t]) : readBibs(item[t]) } : l));
          if (t === 'blur') setBlur((b) => b ?? (item.blur as Record<string, unknown>));
        }
      }
    })().catch((e: unknown) => !cancelled && setError(e));
    return () => {
      cancelled = true;
      for (const stop of stops.current) stop();
    };
  }, [media.id]);

  const run = async (task: Task) => {
    setRunning((r) => ({ ...r, [task]: true }));
    setError(null);
    try {
      if (task === 'text') {
        // Text is not a job task: the photo goes to /text/recognize (fetched from the API with the cookie).
        const blob = await (await fetch(media.content_url, { credentials: 'same-origin' })).blob();
        const result = unwrap(await api.POST('/api/v1/text/recognize', upload({ file: { data: blob, filename: media.name } })));
        setLayers((l) => ({ ...l, text: readText(result) }));
        setRunning((r) => ({ ...r, text: false }));
        return;
      }
      const id = await analyse(media.id, [task]);
      let gotItem = false;
      const stop = watchJob(id, {
        item: (d) => {
          gotItem = true;
          if ('error' in d) setError(new Error(String(d.error)));
          else applyItem(d, task);
        },
        status: (s) => {
          if (s.status === 'FAILED' && s.error_message) setError(new Error(s.error_message));
        },
        closed: () => {
          setRunning((r) => ({ ...r, [task]: false }));
          onAnalysed?.();
          // A stream that ended without the item (a dropped connection): the job has it.
          if (!gotItem)
            void jobDetail(id).then((j) => {
              const item = j.items?.[0];
              if (item && typeof item === 'object') applyItem(item, task);
            });
        },
      });
      stops.current.push(stop);
    } catch (err) {
      setError(err);
      setRunning((r) => ({ ...r, [task]: false }));
    }
  };

  const shown = LAYERS.flatMap((l) => (visible[l.id] ? (layers[l.id] ?? []) : [])).filter((f) => f.confidence >= minConfidence);
  const any = LAYERS.some((l) => layers[l.id] !== null);
  const drawn = boxesOf(shown);

  return (
    <div class="viewer">
      <div class="stage">
        <div class="media-frame">
          <img
            src={media.content_url}
            alt={media.name}
            onLoad={(e) => setSize({ width: e.currentTarget.naturalWidth, height: e.currentTarget.naturalHeight })}
            data-testid="photo"
          />
          <Overlay width={size.width} height={size.height} boxes={drawn} />
        </div>
      </div>
      <aside class="controls" aria-label="Analysis">
        <h2>Analyse</h2>
        <div class="buttons">
          {TASKS.map((t) => (
            <button key={t.id} type="button" onClick={() => void run(t.id)} disabled={running[t.id]} aria-busy={running[t.id] ? 'true' : undefined}>
              {running[t.id] ? `${t.name}…` : t.name}
            </button>
          ))}
        </div>
        <ErrorNote error={error} />
        <h2>Layers</h2>
        <fieldset class="layers">
          <legend class="visually-hidden">Layers shown</legend>
          {LAYERS.map((l) => (
            <label key={l.id}>
              <input type="checkbox" data-layer-toggle={l.id} checked={visible[l.id]} onChange={(e) => setVisible((v) => ({ ...v, [l.id]: e.currentTarget.checked }))} /> {l.name}{' '}
              <span class="count">{layers[l.id] === null ? '(not run)' : `(${layers[l.id]!.length})`}</span>
            </label>
          ))}
        </fieldset>
        <label for="min-confidence">
          Minimum confidence: <output for="min-confidence">{Math.round(minConfidence * 100)}%</output>
        </label>
        <input id="min-confidence" type="range" min={0} max={1} step={0.01} value={minConfidence} onInput={(e) => setMinConfidence(Number(e.currentTarget.value))} />
        {blur && (
          <p class="blur" data-testid="blur">
            Blur: {blur.is_blurry ? 'blurry' : 'sharp'} (Laplacian variance {Number(blur.laplacian_variance).toFixed(1)}, threshold {String(blur.threshold)})
          </p>
        )}
        {!any && !blur && <p class="empty">Nothing has been analysed on this photo yet. Run an analysis above: its boxes are drawn as soon as they arrive.</p>}
        {shown.length > 0 && (
          <>
            <h2>Found ({shown.length})</h2>
            <ul class="found" data-testid="found">
              {shown.map((f, i) => (
                <li key={i} data-layer={f.layer}>
                  {/* The colour of its box on the photo, to tell which is which. */}
                  <span class={`dot layer-${f.layer}`} style={{ background: drawn[i]!.colour }} aria-hidden="true" /> {f.label}
                  {f.layer !== 'text' && ` ${Math.round(f.confidence * 100)}%`}{' '}
                  <span class="coords">
                    ({Math.round(f.box.x1)}, {Math.round(f.box.y1)})–({Math.round(f.box.x2)}, {Math.round(f.box.y2)})
                  </span>
                </li>
              ))}
            </ul>
          </>
        )}
      </aside>
    </div>
  );
}
