import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { session, signOut } from '../lib/api';
import { navigate } from '../lib/router';
import { useSignal } from '../lib/signal';
import { ErrorNote } from './ErrorNote';

const LINKS = [
  ['/media', 'Media'],
  ['/jobs', 'Jobs'],
  ['/faces', 'Faces'],
  ['/bibs', 'Bibs'],
  ['/settings', 'Settings'],
] as const;

/** The page frame: skip link, navigation, who is signed in, and the view. */
export function Layout({ path, children }: { path: string; children: ComponentChildren }) {
  const s = useSignal(session);
  const [error, setError] = useState<unknown>(null);
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="/media">
          Argus
        </a>
        <nav aria-label="Main">
          <ul>
            {LINKS.map(([href, label]) => (
              <li key={href}>
                <a href={href} aria-current={path === href || path.startsWith(`${href}/`) ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          {s && (
            <span>
              {s.owner_id}
              {s.role === 'admin' ? ' (admin)' : ''}
            </span>
          )}
          {s?.auth && (
            <button
              type="button"
              class="link"
              onClick={() => {
                signOut().then(() => navigate('/sign-in', true)).catch(setError);
              }}
            >
              Sign out
            </button>
          )}
          <a href="/docs" class="docs">
            API docs
          </a>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <ErrorNote error={error} />
        {children}
      </main>
    </>
  );
}
