/** Small formatting helpers shared by the views. */

/** Bytes as KB/MB/GB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** Seconds as m:ss.s */
export function formatTime(s: number): string {
  const m = Math.floor(s / 60);
  const rest = s - m * 60;
  return `${m}:${rest.toFixed(1).padStart(4, '0')}`;
}

/** A date as the browser's locale says. */
export function formatDate(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}

/** A stable colour per track id or label: golden-angle hues, dark enough for white text. */
export function colourOf(key: number | string): string {
  const n = typeof key === 'number' ? key : [...key].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
  return `hsl(${Math.round((n * 137.508) % 360)} 85% 38%)`;
}
