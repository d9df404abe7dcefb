import { useEffect, useState } from 'preact/hooks';
import schema from 'virtual:ai-settings-schema';
import { api, session, unwrap, type Schemas } from '../../lib/api';
import { formatDate } from '../../lib/format';
import { useSignal } from '../../lib/signal';
import { Empty, ErrorNote } from '../../components/ErrorNote';
import { DeliveryTable } from '../jobs/JobDetail';

/** `/settings`: the caller's AI settings, webhooks, and (admins) API keys. */
export default function Settings() {
  const s = useSignal(session);
  return (
    <section class="settings">
      <h1>Settings</h1>
      <AiSettingsForm />
      <Webhooks />
      {s?.role === 'admin' && <Keys />}
    </section>
  );
}

type Settings = Record<string, unknown>;

/** A description as a sentence (the schema's are phrases). */
function sentence(text: string | undefined): string {
  if (!text) return '';
  return /[.!?)]$/.test(text) ? text : `${text}.`;
}

function AiSettingsForm() {
  const [settings, setSettings] = useState<Settings | null>(null);
  const [draft, setDraft] = useState<Settings>({});
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    api.GET('/api/v1/users/{userId}/ai-settings', { params: { path: { userId: 'me' } } }).then((r) => setSettings(unwrap(r) as Settings)).catch(setError);
  }, []);
  const save = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setSaved(false);
    try {
      const next = unwrap(await api.PATCH('/api/v1/users/{userId}/ai-settings', { params: { path: { userId: 'me' } }, body: draft as never })) as Settings;
      setSettings(next);
      setDraft({});
      setSaved(true);
    } catch (err) {
      setError(err);
    }
  };
  const value = (k: string) => (k in draft ? draft[k] : settings?.[k]);
  return (
    <form class="panel" onSubmit={(e) => void save(e)} aria-labelledby="ai-title">
      <h2 id="ai-title">AI settings</h2>
      <p>These apply to your analyses; a request's own parameters override them for that call. Changed fields are saved; the rest keep their values.</p>
      {!settings && !error && <p class="loading">Loading…</p>}
      {settings && (
        <div class="settings-grid">
          {Object.entries(schema.properties).map(([k, p]) => {
            const id = `setting-${k}`;
            const v = value(k);
            const isNum = p.type === 'number' || p.type === 'integer';
            const isList = p.type === 'array';
            return (
              <div key={k} class="setting">
                <label for={id}>{k}</label>
                {isNum ? (
                  <input
                    id={id}
                    name={k}
                    type="number"
                    step={p.type === 'integer' ? 1 : 'any'}
                    min={p.minimum}
                    max={p.maximum}
                    value={typeof v === 'number' ? String(v) : ''}
                    aria-describedby={`${id}-help`}
                    onInput={(e) => {
                      const raw = e.currentTarget.value;
                      setDraft((d) => ({ ...d, [k]: Number(raw) }));
                    }}
                  />
                ) : (
                  <input
                    id={id}
                    name={k}
                    type="text"
                    value={isList ? ((v as unknown[] | undefined) ?? []).join(', ') : typeof v === 'string' || typeof v === 'number' ? String(v) : ''}
                    aria-describedby={`${id}-help`}
                    onInput={(e) => {
                      const raw = e.currentTarget.value;
                      setDraft((d) => ({ ...d, [k]: isList ? raw.split(',').map((x) => x.trim()).filter(Boolean) : raw }));
                    }}
                  />
                )}
                <p id={`${id}-help`} class="help">
                  {sentence(p.description)} Default: {JSON.stringify(p.default ?? null)}.
                </p>
              </div>
            );
          })}
        </div>
      )}
      <button type="submit" disabled={Object.keys(draft).length === 0}>
        Save changes
      </button>
      {saved && (
        <span role="status" class="ok">
          {' '}
          Saved.
        </span>
      )}
      <ErrorNote error={error} />
    </form>
  );
}

function Webhooks() {
  const [hooks, setHooks] = useState<Schemas['Webhook'][] | null>(null);
  const [url, setUrl] = useState('');
  const [created, setCreated] = useState<Schemas['Webhook'] | null>(null);
  const [deliveries, setDeliveries] = useState<{ id: string; list: Schemas['DeliveryList'] } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () => api.GET('/api/v1/webhooks').then((r) => setHooks(unwrap(r).items)).catch(setError);
  useEffect(() => {
    void load();
  }, []);
  const act = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <div class="panel">
      <h2>Webhooks</h2>
      <p>Argus POSTs a signed message (Standard Webhooks) to each URL when one of your jobs ends.</p>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          void act(async () => {
            setCreated(unwrap(await api.POST('/api/v1/webhooks', { body: { url: url.trim() } })));
            setUrl('');
            await load();
          });
        }}
      >
        <label for="webhook-url">URL</label> <input id="webhook-url" type="url" required value={url} onInput={(e) => setUrl(e.currentTarget.value)} /> <button type="submit">Register</button>
      </form>
      {created?.secret && (
        <p class="ok" role="status">
          Registered. Its signing secret, shown only now: <code>{created.secret}</code>
        </p>
      )}
      <ErrorNote error={error} />
      {hooks && hooks.length === 0 && <Empty>No webhooks. Register a URL to be told when jobs end.</Empty>}
      {hooks && hooks.length > 0 && (
        <ul class="list">
          {hooks.map((h) => (
            <li key={h.id}>
              <span>{h.url}</span> <span class="small">({h.events.join(', ')}; since {formatDate(h.created_at)})</span>{' '}
              <button type="button" class="small" onClick={() => void act(async () => setDeliveries({ id: h.id, list: unwrap(await api.GET('/api/v1/webhooks/{id}/deliveries', { params: { path: { id: h.id } } })) }))}>
                Deliveries
              </button>{' '}
              <button type="button" class="danger small" aria-label={`Delete webhook ${h.url}`} onClick={() => void act(async () => (unwrap(await api.DELETE('/api/v1/webhooks/{id}', { params: { path: { id: h.id } } })), load()))}>
                Delete
              </button>
              {deliveries?.id === h.id && (deliveries.list.items.length ? <DeliveryTable deliveries={deliveries.list} /> : <Empty>No deliveries yet.</Empty>)}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Keys() {
  const [keys, setKeys] = useState<Schemas['ApiKey'][] | null>(null);
  const [name, setName] = useState('');
  const [owner, setOwner] = useState('');
  const [role, setRole] = useState<'user' | 'admin'>('user');
  const [created, setCreated] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () => api.GET('/api/v1/keys').then((r) => setKeys(unwrap(r).items)).catch(setError);
  useEffect(() => {
    void load();
  }, []);
  return (
    <div class="panel">
      <h2>API keys (admin)</h2>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          setError(null);
          api
            .POST('/api/v1/keys', { body: { name: name.trim(), role, ...(owner.trim() ? { owner_id: owner.trim() } : {}) } })
            .then((r) => {
              setCreated(unwrap(r).key);
              setName('');
              setOwner('');
              return load();
            })
            .catch(setError);
        }}
      >
        <label for="key-name">Name</label> <input id="key-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} /> <label for="key-owner">Owner (optional)</label>{' '}
        <input id="key-owner" value={owner} onInput={(e) => setOwner(e.currentTarget.value)} /> <label for="key-role">Role</label>{' '}
        <select id="key-role" value={role} onChange={(e) => setRole(e.currentTarget.value as 'user' | 'admin')}>
          <option value="user">user</option>
          <option value="admin">admin</option>
        </select>{' '}
        <button type="submit">Create key</button>
      </form>
      {created && (
        <p class="ok" role="status">
          The new key, shown only now: <code>{created}</code>
        </p>
      )}
      <ErrorNote error={error} />
      {keys && (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Owner</th>
              <th scope="col">Role</th>
              <th scope="col">Starts with</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.map((k) => (
              <tr key={k.id}>
                <td>{k.name}</td>
                <td>{k.owner_id}</td>
                <td>{k.role}</td>
                <td>
                  <code>{k.prefix}…</code>
                </td>
                <td>{formatDate(k.last_used_at)}</td>
                <td>
                  <button
                    type="button"
                    class="danger small"
                    aria-label={`Revoke key ${k.name}`}
                    onClick={() => {
                      if (confirm(`Revoke ${k.name}? Sessions made from it end too.`)) api.DELETE('/api/v1/keys/{id}', { params: { path: { id: k.id } } }).then((r) => (unwrap(r), load())).catch(setError);
                    }}
                  >
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
