/**
 * Reading multipart forms on top of @fastify/multipart without buffering files: the route gets each file part
 * as a stream, in order, and the text fields collected, validated against the route's TypeBox schema.
 */
import type { MultipartFile } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import type { TSchema } from 'typebox';
import Value from 'typebox/value';
import { AppError } from '../../domain/errors.js';

/** Route options for multipart routes: their body schema documents the form, the reading below validates it. */
export const multipartRoute = {
  // The body is a stream, not a parsed object: the schema is for OpenAPI; fields are checked by readForm.
  validatorCompiler: () => () => true,
} as const;

/** Reads a multipart form. `onFile` consumes each file part as it arrives; fields are validated by `fields`. */
export async function readForm<T>(
  request: FastifyRequest,
  options: { fields: TSchema; maxFileBytes: number; onFile: (part: MultipartFile, fieldsSoFar: Readonly<Record<string, string>>) => Promise<void> },
): Promise<T> {
  if (!request.isMultipart()) {
    throw new AppError('VALIDATION_ERROR', 'expected a multipart/form-data body with a file');
  }
  const raw: Record<string, string> = {};
  for await (const part of request.parts({ limits: { fileSize: options.maxFileBytes, fieldSize: 1024 * 1024, fields: 50 } })) {
    if (part.type === 'file') await options.onFile(part, raw);
    else raw[part.fieldname] = String(part.value);
  }
  return parseFields<T>(options.fields, raw);
}

/** Converts string form fields to the schema's types and validates them (422 with the field named). */
export function parseFields<T>(schema: TSchema, raw: Record<string, string>): T {
  const value = Value.Convert(schema, Value.Default(schema, { ...raw }));
  if (!Value.Check(schema, value)) {
    const errors = [...Value.Errors(schema, value)].map((e) => ({ path: e.instancePath, message: e.message }));
    const first = errors[0];
    throw new AppError('VALIDATION_ERROR', `invalid form field${first ? ` ${first.path.replace(/^\//, '')}: ${first.message}` : ''}`, errors);
  }
  return value as T;
}

/** The bytes of an uploaded file part, with the size limit turned into a 413 from the catalog. */
export async function* fileBytes(part: MultipartFile): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of part.file) yield chunk as Uint8Array;
  } catch (err) {
    throw tooLarge(err);
  }
  if (part.file.truncated) throw new AppError('PAYLOAD_TOO_LARGE', 'the file is larger than this server accepts');
}

/** Reads a whole (bounded) file part into memory, for analyzers that need the image at once. */
export async function fileBuffer(part: MultipartFile): Promise<Buffer> {
  try {
    return await part.toBuffer();
  } catch (err) {
    throw tooLarge(err);
  }
}

function tooLarge(err: unknown): unknown {
  if ((err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') {
    return new AppError('PAYLOAD_TOO_LARGE', 'the file is larger than this server accepts');
  }
  return err;
}

/** Reads a form with one image in the field `file` and the given text fields; 422 without the file. */
export async function readImageForm<T>(request: FastifyRequest, fields: TSchema, maxFileBytes: number): Promise<{ fields: T; image: Buffer; filename: string | undefined }> {
  let image: Buffer | undefined;
  let filename: string | undefined;
  const parsed = await readForm<T>(request, {
    fields,
    maxFileBytes,
    onFile: async (part) => {
      if (part.fieldname !== 'file' || image) throw new AppError('VALIDATION_ERROR', `unexpected file field '${part.fieldname}'`);
      filename = part.filename;
      image = await fileBuffer(part);
    },
  });
  if (!image) throw new AppError('VALIDATION_ERROR', "no file: send the image in the multipart field 'file'");
  return { fields: parsed, image, filename };
}
