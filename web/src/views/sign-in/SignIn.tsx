import { useState } from 'preact/hooks';
import { signIn } from '../../lib/api';
import { navigate } from '../../lib/router';
import { ErrorNote } from '../../components/ErrorNote';

/**
 * Sign-in with an API key or a JWT. The credential goes once into the sign-in request's header and is then
 * forgotten: the server answers with an HttpOnly cookie, which is what the console uses from then on.
 */
export function SignIn({ next }: { next: string }) {
  const [kind, setKind] = useState<'key' | 'token'>('key');
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(kind === 'key' ? { apiKey: value.trim() } : { token: value.trim() });
      setValue('');
      // Only console paths: `next` comes from the URL.
      navigate(next.startsWith('/') && !next.startsWith('//') ? next : '/media', true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="sign-in">
      <h1>Sign in to Argus</h1>
      <p>
        Use an API key (the first admin key is printed once in the server's log when it first starts) or a JWT. The
        console keeps neither: the server gives this browser a session cookie instead.
      </p>
      <form onSubmit={(e) => void submit(e)}>
        <fieldset>
          <legend>Credential</legend>
          <label>
            <input type="radio" name="kind" checked={kind === 'key'} onChange={() => setKind('key')} /> API key
          </label>
          <label>
            <input type="radio" name="kind" checked={kind === 'token'} onChange={() => setKind('token')} /> JWT
          </label>
        </fieldset>
        <label for="credential">{kind === 'key' ? 'API key' : 'Token'}</label>
        <input id="credential" name="credential" type="password" autoComplete="off" spellcheck={false} required value={value} onInput={(e) => setValue(e.currentTarget.value)} />
        <button type="submit" disabled={busy || !value.trim()}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <ErrorNote error={error} />
    </main>
  );
}
