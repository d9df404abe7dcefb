/** User-supplied URLs (video_url, image_url, callback_url): only http(s), no embedded credentials. */
import { AppError } from './errors.js';

/** Parses a user-supplied URL; VALIDATION_ERROR (422) unless it is an http(s) URL without credentials. */
export function parseUserUrl(url: string, field = 'url'): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AppError('VALIDATION_ERROR', `${field} is not a valid URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new AppError('VALIDATION_ERROR', `${field} must be http or https, not ${parsed.protocol.replace(':', '')}`);
  if (parsed.username || parsed.password) throw new AppError('VALIDATION_ERROR', `${field} must not carry credentials`);
  return parsed;
}
