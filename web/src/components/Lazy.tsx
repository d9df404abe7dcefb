import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ErrorNote } from './ErrorNote';

type Loader<P> = () => Promise<{ default: ComponentType<P> }>;
const loaded = new Map<Loader<never>, ComponentType<never>>();

/** A view loaded on first use (its own chunk), so the first page loads only what it shows. */
export function Lazy<P extends object>({ load, props }: { load: Loader<P>; props: P }) {
  const [View, setView] = useState<ComponentType<P> | undefined>(() => loaded.get(load as Loader<never>) as ComponentType<P> | undefined);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (View) return;
    load().then(
      (m) => {
        loaded.set(load as Loader<never>, m.default as ComponentType<never>);
        setView(() => m.default);
      },
      (e: unknown) => setError(e),
    );
  }, [load, View]);
  if (error) return <ErrorNote error={error} />;
  return View ? <View {...props} /> : <p class="loading">Loading…</p>;
}
