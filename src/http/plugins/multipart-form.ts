/**
 * Reading multipart forms on top of @fastify/multipart without buffering files: the route gets each file part
 * as a stream, in order, and the text fields collected, validated against the route's TypeBox schema.
 *
 * Hostile forms get the error envelope, never a 500: a body that is not well-formed multipart (no boundary, cut
 * short) is a 400, a text field over FIELD_SIZE bytes a 413 naming it (busboy would otherwise truncate it silently),
 * a field sent twice or a file in an unexpected field a 422 naming what is expected.
 */
import type { MultipartFile, MultipartValue } from '@fastify/multipart';
import type { FastifyRequest, FastifySchemaValidationError } from 'fastify';
import type { TSchema } from 'typebox';
import Value from 'typebox/value';
import { AppError, isAppError } from '../../domain/errors.js';
import './image-budget.js';
import { fieldProblems, problemsMessage } from '../validation.js';

/** The largest text field accepted, in bytes. */
export const FIELD_SIZE = 64 * 1024;
/** The most text fields one form may carry. */
export const MAX_FIELDS = 50;

/**
 * Route options for multipart routes: their body schema documents the form, the reading below validates it. The
 * path and query string are checked as on every other route (a malformed person id is a 422, not a lookup).
 */
export const multipartRoute = {
  // The body is a stream, not a parsed object: the schema is for OpenAPI; fields are checked by readForm.
  validatorCompiler: ({ schema, httpPart }: { schema: unknown; httpPart?: string }) => {
    if (httpPart === 'body') return () => true;
    const s = schema as TSchema;
    return (data: unknown): { value?: unknown; error?: FastifySchemaValidationError[] } => {
      const value = Value.Convert(s, Value.Default(s, data && typeof data === 'object' ? { ...data } : data));
      return Value.Check(s, value) ? { value } : { error: [...Value.Errors(s, value)] };
    };
  },
} as const;

/** How a form is read. */
export interface FormOptions {
  /** The text fields: converted from strings and validated (unknown fields are refused when the schema says so). */
  readonly fields: TSchema;
  readonly maxFileBytes: number;
  /** The file fields the route accepts, for the message when another one arrives. */
  readonly fileFields: readonly string[];
  /** How many files the form may carry (default 1). */
  readonly maxFiles?: number;
  /** Consumes one file part (it must read the stream to its end); `fieldsSoFar` holds the text fields sent before it. */
  readonly onFile: (part: MultipartFile, fieldsSoFar: Readonly<Record<string, string>>) => Promise<void>;
}

/** Reads a multipart form. `onFile` consumes each file part as it arrives; the text fields are validated at the end. */
export async function readForm<T>(request: FastifyRequest, options: FormOptions): Promise<T> {
  const raw = await readRawForm(request, options);
  return parseFields<T>(options.fields, raw);
}

/** Reads a multipart form and returns its text fields unvalidated (for routes that validate in steps). */
export async function readRawForm(request: FastifyRequest, options: FormOptions): Promise<Record<string, string>> {
  if (!request.isMultipart()) {
    const fields = options.fileFields.map((f) => `'${f}'`).join(' or ');
    // An empty request is a form without its file (seed 004: 422); a body of another type is a 415.
    if (!request.headers['content-type']) throw new AppError('VALIDATION_ERROR', `no file: send multipart/form-data with the file in the field ${fields}`, [{ field: options.fileFields[0], problem: 'missing' }]);
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', `send multipart/form-data with the file in the field ${fields}`, undefined, 415);
  }
  const maxFiles = options.maxFiles ?? 1;
  const raw: Record<string, string> = {};
  let files = 0;
  let parts: AsyncIterator<MultipartFile | MultipartValue>;
  try {
    // One more file than allowed reaches the route, so the refusal names the limit instead of busboy's.
    parts = request.parts({ limits: { fileSize: options.maxFileBytes, fieldSize: FIELD_SIZE, fields: MAX_FIELDS, files: maxFiles + 1 } })[Symbol.asyncIterator]();
  } catch (err) {
    throw malformed(err);
  }
  for (;;) {
    let next: IteratorResult<MultipartFile | MultipartValue>;
    try {
      next = await parts.next();
    } catch (err) {
      throw malformed(err);
    }
    if (next.done) break;
    const part = next.value;
    if (part.type === 'file') {
      if (!options.fileFields.includes(part.fieldname)) {
        throw new AppError('VALIDATION_ERROR', `unexpected file field '${part.fieldname}'; send the file in ${options.fileFields.map((f) => `'${f}'`).join(' or ')}`, [
          { field: part.fieldname, problem: 'unexpected file field', allowed: options.fileFields },
        ]);
      }
      if (++files > maxFiles) {
        throw new AppError('VALIDATION_ERROR', maxFiles === 1 ? `send one file only (in '${part.fieldname}')` : `at most ${maxFiles} files per request`, [
          { field: part.fieldname, problem: `more than ${maxFiles} file(s)` },
        ]);
      }
      await options.onFile(part, raw);
    } else {
      if (part.valueTruncated || part.fieldnameTruncated) {
        throw new AppError('PAYLOAD_TOO_LARGE', `form field '${part.fieldname}' is longer than ${FIELD_SIZE} bytes`, [{ field: part.fieldname, problem: `longer than ${FIELD_SIZE} bytes` }]);
      }
      if (Object.hasOwn(raw, part.fieldname)) {
        throw new AppError('VALIDATION_ERROR', `form field '${part.fieldname}' was sent more than once`, [{ field: part.fieldname, problem: 'sent more than once' }]);
      }
      raw[part.fieldname] = String(part.value);
    }
  }
  return raw;
}

/** Converts string form fields to the schema's types and validates them (422 with the field named). */
export function parseFields<T>(schema: TSchema, raw: Record<string, unknown>): T {
  const value = Value.Convert(schema, Value.Default(schema, { ...raw }));
  if (!Value.Check(schema, value)) {
    const problems = fieldProblems([...Value.Errors(schema, value)], schema);
    throw new AppError('VALIDATION_ERROR', problemsMessage('form', problems), problems);
  }
  return value as T;
}

/** The bytes of an uploaded file part, with the size limit turned into a 413 and a broken body into a 400. */
export async function* fileBytes(part: MultipartFile): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of part.file) yield chunk as Uint8Array;
  } catch (err) {
    throw partError(err);
  }
  if (part.file.truncated) throw new AppError('PAYLOAD_TOO_LARGE', 'the file is larger than this server accepts');
}

/** Reads a whole (bounded) file part into memory, for analyzers that need the image at once. */
export async function fileBuffer(part: MultipartFile): Promise<Buffer> {
  try {
    return await part.toBuffer();
  } catch (err) {
    throw partError(err);
  }
}

function partError(err: unknown): unknown {
  if ((err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') {
    return new AppError('PAYLOAD_TOO_LARGE', 'the file is larger than this server accepts');
  }
  return malformed(err);
}

/** Parser limits keep their own codes (413); anything else the parser throws means the body is not a valid form. */
function malformed(err: unknown): unknown {
  if (isAppError(err)) return err;
  const code = (err as { code?: string }).code;
  if (code && /^FST_(PARTS|FILES|FIELDS)_LIMIT$|^FST_REQ_FILE_TOO_LARGE$/.test(code)) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new AppError('BAD_REQUEST', `the multipart body is malformed or ended early (${detail})`);
}

/**
 * Reads a form with one image in the field `file` and the given text fields (422 without the file), and waits for
 * room for its pixels in the image budget.
 */
export async function readImageForm<T>(request: FastifyRequest, fields: TSchema, maxFileBytes: number): Promise<{ fields: T; image: Buffer; filename: string | undefined }> {
  let image: Buffer | undefined;
  let filename: string | undefined;
  const parsed = await readForm<T>(request, {
    fields,
    maxFileBytes,
    fileFields: ['file'],
    onFile: async (part) => {
      filename = part.filename;
      image = await fileBuffer(part);
    },
  });
  if (!image) throw new AppError('VALIDATION_ERROR', "no file: send the image in the multipart field 'file'", [{ field: 'file', problem: 'missing' }]);
  await request.admitImage(image);
  return { fields: parsed, image, filename };
}
