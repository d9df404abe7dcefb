import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, unwrap, upload, type Schemas } from '../../lib/api';
import { formatTime } from '../../lib/format';
import { Empty, ErrorNote } from '../../components/ErrorNote';
import { FacePicker } from './FacePicker';

type PersonSummary = Schemas['PersonList']['items'][number];
type Person = Schemas['Person'];

/** `/faces`: collections and persons (with face thumbnails), enroll, add and remove faces, delete, compare, search by a selfie. */
export default function Faces() {
  const [collection, setCollection] = useState('default');
  const [collections, setCollections] = useState<string[]>(['default']);
  const [persons, setPersons] = useState<PersonSummary[] | null>(null);
  const [open, setOpen] = useState<Person | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async () => {
    try {
      // Every person of every collection (collections are named by their persons), then this collection's.
      const all = unwrap(await api.GET('/api/v1/faces/persons', { params: { query: { limit: 200, offset: 0 } } }));
      setCollections([...new Set(['default', collection, ...all.items.map((p) => p.collection)])].sort());
      setPersons(all.items.filter((p) => p.collection === collection));
    } catch (err) {
      setError(err);
    }
  }, [collection]);
  useEffect(() => {
    void load();
  }, [load]);

  const openPerson = async (id: string) => {
    try {
      setOpen(unwrap(await api.GET('/api/v1/faces/persons/{id}', { params: { path: { id } } })));
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section class="faces">
      <h1>Faces</h1>
      <ErrorNote error={error} />
      <div class="row">
        <label>
          Collection{' '}
          <select value={collection} onChange={(e) => setCollection(e.currentTarget.value)}>
            {collections.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <NewCollection onCreate={(c) => setCollection(c)} />
      </div>
      <div class="columns">
        <div>
          <h2>Persons in {collection}</h2>
          {persons && persons.length === 0 && <Empty>No one is enrolled in this collection yet. Enroll a person from a photo of their face.</Empty>}
          {persons && persons.length > 0 && (
            <ul class="persons" aria-label="Persons">
              {persons.map((p) => (
                <li key={p.person_id} class="person">
                  <button type="button" class="link" onClick={() => void openPerson(p.person_id)}>
                    {p.person_name}
                  </button>{' '}
                  <span class="count">{p.face_count} face(s)</span>
                </li>
              ))}
            </ul>
          )}
          {open && <PersonCard person={open} onChange={() => void openPerson(open.person_id).then(load)} onDeleted={() => (setOpen(null), void load())} />}
        </div>
        <div>
          <Enroll collection={collection} onDone={() => void load()} />
        </div>
      </div>
      <div class="columns">
        <SearchPeople collection={collection} />
        <Compare />
      </div>
      <SearchMedia />
    </section>
  );
}

function NewCollection({ onCreate }: { onCreate: (name: string) => void }) {
  const [name, setName] = useState('');
  return (
    <form
      class="inline"
      onSubmit={(e) => {
        e.preventDefault();
        if (name.trim()) onCreate(name.trim());
        setName('');
      }}
    >
      <label>
        New collection <input value={name} pattern="[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}" onInput={(e) => setName(e.currentTarget.value)} />
      </label>{' '}
      <button type="submit">Use</button>
    </form>
  );
}

function PersonCard({ person, onChange, onDeleted }: { person: Person; onChange: () => void; onDeleted: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [faceIndex, setFaceIndex] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const act = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <article class="person-card" aria-label={`Person ${person.person_name}`}>
      <h3>{person.person_name}</h3>
      <p>
        Collection {person.collection}, {person.face_count} face(s).
      </p>
      <ul class="face-thumbs">
        {person.faces.map((f, i) => (
          <li key={f.face_id}>
            <FaceThumb personId={person.person_id} faceId={f.face_id} name={`Face ${i + 1} of ${person.person_name}`} initials={initials(person.person_name)} />
            <span class="small">quality {Math.round(f.quality.score * 100)}%</span>
            <button
              type="button"
              class="danger small"
              aria-label={`Remove face ${i + 1} of ${person.person_name}`}
              onClick={() => void act(async () => (unwrap(await api.DELETE('/api/v1/faces/persons/{id}/faces/{faceId}', { params: { path: { id: person.person_id, faceId: f.face_id } } })), onChange()))}
            >
              Remove
            </button>
          </li>
        ))}
      </ul>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (file)
            void act(async () => {
              unwrap(await api.POST('/api/v1/faces/persons/{id}/faces', { params: { path: { id: person.person_id } }, ...upload({ file, face_index: faceIndex ?? undefined }) }));
              setFile(null);
              onChange();
            });
        }}
      >
        <label>
          Add a face <input type="file" accept="image/*" onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} />
        </label>
        {file && <FacePicker file={file} onPick={setFaceIndex} />}
        <button type="submit" disabled={!file || faceIndex === null}>
          Add face
        </button>
      </form>
      <button
        type="button"
        class="danger"
        onClick={() => {
          if (confirm(`Delete ${person.person_name} and every face of theirs?`)) void act(async () => (unwrap(await api.DELETE('/api/v1/faces/persons/{id}', { params: { path: { id: person.person_id } } })), onDeleted()));
        }}
      >
        Delete person
      </button>
      <ErrorNote error={error} />
    </article>
  );
}

function initials(name: string): string {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w[0]!.toUpperCase())
    .join('');
}

/** A face's thumbnail (cropped by the server from the photo it came from), or the person's initials when no photo was kept. */
function FaceThumb({ personId, faceId, name, initials: letters }: { personId: string; faceId: string; name: string; initials: string }) {
  const [failed, setFailed] = useState(false);
  if (failed)
    return (
      <span class="face-placeholder" role="img" aria-label={`${name} (no photo kept)`}>
        {letters}
      </span>
    );
  return <img src={`/api/v1/faces/persons/${personId}/faces/${faceId}/thumbnail`} alt={name} width={80} height={80} onError={() => setFailed(true)} />;
}

function Enroll({ collection, onDone }: { collection: string; onDone: () => void }) {
  const [name, setName] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [faceIndex, setFaceIndex] = useState<number | null>(null);
  const [done, setDone] = useState<Schemas['Enrollment'] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="panel"
      aria-labelledby="enroll-title"
      onSubmit={(e) => {
        e.preventDefault();
        if (!file || faceIndex === null) return;
        setBusy(true);
        setError(null);
        api
          .POST('/api/v1/faces/enroll', upload({ person_name: name.trim(), collection, face_index: faceIndex, file }))
          .then((r) => {
            setDone(unwrap(r));
            setName('');
            setFile(null);
            onDone();
          })
          .catch(setError)
          .finally(() => setBusy(false));
      }}
    >
      <h2 id="enroll-title">Enroll a person</h2>
      <label for="enroll-name">Name</label>
      <input id="enroll-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
      <label for="enroll-file">Photo of their face</label>
      <input id="enroll-file" type="file" accept="image/*" required onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} />
      {file && <FacePicker file={file} onPick={setFaceIndex} />}
      <button type="submit" disabled={busy || !file || faceIndex === null || !name.trim()}>
        {busy ? 'Enrolling…' : `Enroll in ${collection}`}
      </button>
      <ErrorNote error={error} />
      {done && (
        <p class="ok" role="status">
          Enrolled {done.person_name} in {done.collection}.
        </p>
      )}
    </form>
  );
}

function SearchPeople({ collection }: { collection: string }) {
  const [result, setResult] = useState<Schemas['FaceSearchResult'] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <div class="panel">
      <h2>Who is this?</h2>
      <label for="who-file">A photo to search {collection} with</label>
      <input
        id="who-file"
        type="file"
        accept="image/*"
        onChange={(e) => {
          const file = e.currentTarget.files?.[0];
          if (!file) return;
          setBusy(true);
          setError(null);
          setResult(null);
          api
            .POST('/api/v1/faces/search', upload({ collection, file }))
            .then((r) => setResult(unwrap(r)))
            .catch(setError)
            .finally(() => setBusy(false));
        }}
      />
      {busy && <p class="loading">Searching…</p>}
      <ErrorNote error={error} />
      {result && (
        <ul class="matches" data-testid="who-results">
          {result.faces.length === 0 && <li>No face on this photo.</li>}
          {result.faces.map((f, i) => (
            <li key={i}>
              Face {i + 1}:{' '}
              {f.matches.length === 0
                ? `no one in ${collection} above the threshold (${result.threshold})`
                : f.matches.map((m) => (
                    <span key={m.person_id} class="match" data-person={m.person_name}>
                      {m.person_name} ({Math.round(m.similarity * 100)}%){' '}
                    </span>
                  ))}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Compare() {
  const [a, setA] = useState<File | null>(null);
  const [b, setB] = useState<File | null>(null);
  const [result, setResult] = useState<Schemas['FaceComparison'] | null>(null);
  const [error, setError] = useState<unknown>(null);
  return (
    <form
      class="panel"
      aria-labelledby="compare-title"
      onSubmit={(e) => {
        e.preventDefault();
        if (!a || !b) return;
        setError(null);
        api.POST('/api/v1/faces/compare', upload({ image1: a, image2: b })).then((r) => setResult(unwrap(r))).catch(setError);
      }}
    >
      <h2 id="compare-title">Compare two photos</h2>
      <label for="compare-1">First photo</label>
      <input id="compare-1" type="file" accept="image/*" onChange={(e) => setA(e.currentTarget.files?.[0] ?? null)} />
      <label for="compare-2">Second photo</label>
      <input id="compare-2" type="file" accept="image/*" onChange={(e) => setB(e.currentTarget.files?.[0] ?? null)} />
      <button type="submit" disabled={!a || !b}>
        Compare
      </button>
      <ErrorNote error={error} />
      {result && (
        <p role="status" data-testid="compare-result">
          {result.same_person ? 'Same person' : 'Different people'}: similarity {result.similarity.toFixed(3)} (threshold {result.threshold}).
        </p>
      )}
    </form>
  );
}

function SearchMedia() {
  const [result, setResult] = useState<Schemas['MediaByFaceResult'] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <div class="panel">
      <h2>Find photos and videos by a selfie</h2>
      <p>Searches the faces found by face and bib analyses of your stored media.</p>
      <label for="selfie">Selfie</label>
      <input
        id="selfie"
        type="file"
        accept="image/*"
        onChange={(e) => {
          const file = e.currentTarget.files?.[0];
          if (!file) return;
          setBusy(true);
          setError(null);
          setResult(null);
          api
            .POST('/api/v1/faces/media/search', upload({ file }))
            .then((r) => setResult(unwrap(r)))
            .catch(setError)
            .finally(() => setBusy(false));
        }}
      />
      {busy && <p class="loading">Searching…</p>}
      <ErrorNote error={error} />
      {result && result.media.length === 0 && <Empty>This face was not found in your analysed media. Run face analyses on photos and videos first.</Empty>}
      {result && result.media.length > 0 && (
        <ul class="grid" data-testid="selfie-results">
          {result.media.map((m) => (
            <li key={m.media_id} class="card">
              <a href={`/media/${m.media_id}${m.timestamp !== null ? `?t=${m.timestamp}` : ''}`} class="thumb">
                <img src={`/api/v1/media/${m.media_id}/thumbnail`} alt={m.name} loading="lazy" />
              </a>
              <div class="meta">
                <span class="title">{m.name}</span>
                <span>similarity {Math.round(m.similarity * 100)}%</span>
                {m.timestamp !== null && <span>at {formatTime(m.timestamp)}</span>}
              </div>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
