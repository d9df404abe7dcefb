/**
 * Client-side routing on the History API: every view has its own URL, and the server answers index.html for each,
 * so deep links survive a reload. Links are ordinary <a href> elements; clicks on same-origin links are caught.
 */
import { signal } from './signal';

/** The current location (path and query). */
export const route = signal({ path: location.pathname, query: new URLSearchParams(location.search) });

/** Goes to a console URL without reloading the page. */
export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  route.value = { path: location.pathname, query: new URLSearchParams(location.search) };
  if (!replace) window.scrollTo(0, 0);
}

window.addEventListener('popstate', () => {
  route.value = { path: location.pathname, query: new URLSearchParams(location.search) };
});

document.addEventListener('click', (event) => {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const a = (event.target as Element | null)?.closest?.('a');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  // The API's own URLs (files, docs) are real navigations.
  if (url.origin !== location.origin || url.pathname.startsWith('/api/') || url.pathname.startsWith('/docs')) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
});

/** Matches `path` against a pattern like `/media/:id`; the parameters, or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/');
  const s = path.replace(/\/+$/, '').split('/');
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const part = p[i]!;
    if (part.startsWith(':')) params[part.slice(1)] = decodeURIComponent(s[i]!);
    else if (part !== s[i]) return null;
  }
  return params;
}
