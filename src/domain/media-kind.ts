/** What a stored medium is; decides its directory and which analyzers apply. */
export type MediaKind = 'image' | 'video';

const IMAGE_EXTENSIONS = new Set(['jpg', 'jpeg', 'jpe', 'png', 'webp', 'gif', 'bmp', 'tif', 'tiff', 'avif', 'heic', 'heif', 'jxl']);
const VIDEO_EXTENSIONS = new Set(['mp4', 'm4v', 'mov', 'avi', 'mkv', 'webm', 'mpg', 'mpeg', 'ts', 'mts', 'm2ts', 'flv', 'wmv', '3gp', 'ogv', 'asf']);

/** The kind a MIME type (as sniffed from content) belongs to, or null when Argus does not analyze it. */
export function kindOfMime(mime: string): MediaKind | null {
  if (mime.startsWith('image/')) return 'image';
  if (mime.startsWith('video/')) return 'video';
  // Containers that file-type reports under application/* but are video in practice.
  if (mime === 'application/vnd.ms-asf' || mime === 'application/x-matroska') return 'video';
  return null;
}

/** The kind a file name's extension claims, or null when the extension says nothing (absent or unknown). */
export function kindOfExtension(filename: string): MediaKind | null {
  const dot = filename.lastIndexOf('.');
  if (dot < 0) return null;
  const ext = filename.slice(dot + 1).toLowerCase();
  if (IMAGE_EXTENSIONS.has(ext)) return 'image';
  if (VIDEO_EXTENSIONS.has(ext)) return 'video';
  return null;
}

/**
 * Sanitises an uploaded file name for display: strips any directory part, control and path characters,
 * and limits the length. The result is never used to build a path.
 */
export function sanitizeFilename(raw: string | undefined): string {
  const base = (raw ?? '').normalize('NFC').split(/[\\/]/).pop() ?? '';
  // Control characters (Cc) and invisible format characters (Cf: bidirectional overrides such as U+202E, which make
  // "gpj.exe" display as "exe.jpg", zero-width joiners, BOMs), and characters that are unsafe in file names.
  // Normalised again after the removal: NFC cannot join "e" and U+0301 across a control character between them.
  const cleaned = base.replace(/[\p{Cc}\p{Cf}\u2028\u2029<>:"|?*]/gu, '').normalize('NFC');
  // Leading dots and spaces go together: " .htaccess" must not become the hidden ".htaccess" once trimmed.
  const stripped = cleaned.replace(/^[\s.]+/u, '').trimEnd();
  // Cut by code points, so a name is never left ending in half a surrogate pair; trimmed again where the cut lands
  // after a space, so that sanitising a sanitised name changes nothing.
  const name = Array.from(stripped).slice(0, 255).join('').trimEnd();
  return name.length > 0 ? name : 'unnamed';
}
