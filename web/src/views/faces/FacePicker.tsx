import { useEffect, useState } from 'preact/hooks';
import { api, unwrap, upload, type Schemas } from '../../lib/api';
import { Overlay } from '../../components/Overlay';
import { ErrorNote } from '../../components/ErrorNote';

/**
 * A photo's faces to choose from: detected first (POST /faces/detect, largest first — the order face_index uses),
 * drawn over a local preview of the file; a photo with one face chooses itself.
 */
export function FacePicker({ file, onPick }: { file: File; onPick: (index: number | null) => void }) {
  const [url, setUrl] = useState('');
  const [size, setSize] = useState({ width: 0, height: 0 });
  const [faces, setFaces] = useState<Schemas['Face'][] | null>(null);
  const [chosen, setChosen] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const u = URL.createObjectURL(file);
    setUrl(u);
    setFaces(null);
    setChosen(null);
    onPick(null);
    api.POST('/api/v1/faces/detect', upload({ file })).then((r) => {
      const found = unwrap(r).faces;
      setFaces(found);
      if (found.length === 1) {
        setChosen(0);
        onPick(0);
      }
    }).catch(setError);
    return () => URL.revokeObjectURL(u);
    // a new file starts over
  }, [file]);
  const choose = (i: number) => {
    setChosen(i);
    onPick(i);
  };
  return (
    <div class="face-picker">
      <div class="media-frame small">
        <img src={url} alt="The chosen photo" onLoad={(e) => setSize({ width: e.currentTarget.naturalWidth, height: e.currentTarget.naturalHeight })} />
        <Overlay
          width={size.width}
          height={size.height}
          boxes={(faces ?? []).map((f, i) => ({ key: String(i), ...f.box, label: `${i + 1}`, colour: i === chosen ? 'hsl(140 80% 30%)' : 'hsl(200 90% 35%)', layer: 'faces', onSelect: () => choose(i) }))}
        />
      </div>
      <ErrorNote error={error} />
      {faces && faces.length === 0 && <p class="error-text">No face was found on this photo. Choose another.</p>}
      {faces && faces.length > 1 && (
        <fieldset class="face-choice">
          <legend>This photo has {faces.length} faces: which one?</legend>
          {faces.map((f, i) => (
            <label key={i}>
              <input type="radio" name="face-choice" checked={chosen === i} onChange={() => choose(i)} /> Face {i + 1} ({Math.round(f.box.x2 - f.box.x1)} px wide)
            </label>
          ))}
        </fieldset>
      )}
    </div>
  );
}
