/**
 * Reads a text recognizer's character dictionary (the manifest's `dictionary`, a file beside the model, one
 * character per line) once per file and keeps it: a 6,623-line file is read on the first OCR call only.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { CharacterDictionaries } from '../../app/ocr-pipeline.js';
import type { UsableModel } from '../../app/ports.js';
import { AppError } from '../../domain/errors.js';

/** Splits a dictionary file into its entries as PaddleOCR reads it (a final newline adds no entry). */
export function parseDictionary(text: string): string[] {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Dictionaries from the model directories, cached by path. */
export class FileDictionaryLoader implements CharacterDictionaries {
  private readonly cache = new Map<string, Promise<readonly string[]>>();

  /** The entries of `model`'s dictionary; MODEL_UNAVAILABLE when it has none or the file cannot be read. */
  dictionary(model: UsableModel): Promise<readonly string[]> {
    const name = model.manifest.dictionary;
    if (!name) return Promise.reject(new AppError('MODEL_UNAVAILABLE', `model '${model.manifest.id}' names no character dictionary`));
    const file = path.join(path.dirname(model.path), name);
    let entry = this.cache.get(file);
    if (!entry) {
      entry = readFile(file, 'utf8').then(parseDictionary, (err: unknown) => {
        this.cache.delete(file);
        const detail = err instanceof Error ? err.message : String(err);
        throw new AppError('MODEL_UNAVAILABLE', `model '${model.manifest.id}': its dictionary ${file} cannot be read (${detail})`, { model: model.manifest.id });
      });
      this.cache.set(file, entry);
    }
    return entry;
  }
}
