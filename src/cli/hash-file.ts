import { stat } from 'node:fs/promises';
import { readFileRanges } from '../adapters/storage/read-ranges.js';
import { mediaIdFromSamples, sampleRanges } from '../domain/media-id.js';

/** The content id of a file on disk, reading only the sampled bytes. */
export async function hashFile(file: string): Promise<string> {
  const { size } = await stat(file);
  return mediaIdFromSamples(size, await readFileRanges(file, sampleRanges(size)));
}
