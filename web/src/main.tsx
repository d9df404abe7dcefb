/**
 * The Argus console: a single-page app on the API it is served by. The shell (this file, the layout, the session
 * and the media library, the usual first view) is in the first bundle; every other view is its own chunk, loaded
 * when first visited.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './styles.css';
import { loadSession, session } from './lib/api';
import { match, navigate, route } from './lib/router';
import { useSignal } from './lib/signal';
import { Layout } from './components/Layout';
import { Lazy } from './components/Lazy';
import { ErrorNote } from './components/ErrorNote';
import { SignIn } from './views/sign-in/SignIn';
import { MediaLibrary } from './views/media-library/MediaLibrary';

const loadMediaView = () => import('./views/media/MediaView');
const loadJobs = () => import('./views/jobs/Jobs');
const loadJob = () => import('./views/jobs/JobDetail');
const loadFaces = () => import('./views/faces/Faces');
const loadBibs = () => import('./views/bibs/Bibs');
const loadSettings = () => import('./views/settings/Settings');

function View({ path }: { path: string }) {
  let p: Record<string, string> | null;
  if (path === '/' || path === '') {
    navigate('/media', true);
    return null;
  }
  if (match('/media', path)) return <MediaLibrary />;
  if ((p = match('/media/:id', path))) return <Lazy load={loadMediaView} props={{ id: p.id! }} />;
  if (match('/jobs', path)) return <Lazy load={loadJobs} props={{}} />;
  if ((p = match('/jobs/:id', path))) return <Lazy load={loadJob} props={{ id: p.id! }} />;
  if (match('/faces', path)) return <Lazy load={loadFaces} props={{}} />;
  if (match('/bibs', path) || match('/bibs/:number', path)) return <Lazy load={loadBibs} props={{ number: match('/bibs/:number', path)?.number ?? '' }} />;
  if (match('/settings', path)) return <Lazy load={loadSettings} props={{}} />;
  return (
    <section>
      <h1>Not found</h1>
      <p>
        There is no console page at {path}. Go to the <a href="/media">media library</a>.
      </p>
    </section>
  );
}

function App() {
  const current = useSignal(route);
  const s = useSignal(session);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    loadSession().catch(setError);
  }, []);
  useEffect(() => {
    // Signed out (or never signed in): the sign-in page, which comes back here afterwards.
    if (s === null && current.path !== '/sign-in') navigate(`/sign-in?next=${encodeURIComponent(current.path + (location.search || ''))}`, true);
  }, [s, current.path]);
  useEffect(() => {
    document.title = `${titleOf(current.path)} · Argus`;
  }, [current.path]);
  if (error) return <ErrorNote error={error} />;
  if (s === undefined) return <p class="loading">Loading…</p>;
  if (current.path === '/sign-in') return <SignIn next={current.query.get('next') ?? '/media'} />;
  if (s === null) return null;
  return (
    <Layout path={current.path}>
      <View path={current.path} />
    </Layout>
  );
}

function titleOf(path: string): string {
  const first = path.split('/')[1] ?? '';
  return ({ media: path.split('/').length > 2 ? 'Media' : 'Media library', jobs: 'Jobs', faces: 'Faces', bibs: 'Bibs', settings: 'Settings', 'sign-in': 'Sign in' } as Record<string, string>)[first] ?? 'Console';
}

render(<App />, document.getElementById('app')!);
