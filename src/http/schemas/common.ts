/** Schemas shared by many routes: the error envelope, paging, naming. */
import Type, { type TSchema } from 'typebox';

/**
 * The schema under a name: the OpenAPI document lists it as `components.schemas.<title>` and refers to it wherever
 * it is used (see http/openapi.ts), so the generated client has a type of that name.
 */
export function named<T extends TSchema>(title: string, schema: T): T {
  // A copy with every property as it was (TypeBox keeps its kind in a non-enumerable one).
  const copy = Object.create(Object.getPrototypeOf(schema) as object, Object.getOwnPropertyDescriptors(schema)) as T & { title: string };
  copy.title = title;
  return copy;
}

/** The one error envelope of every 4xx/5xx response. */
export const ErrorEnvelope = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Machine-readable code from the error catalog, e.g. NOT_FOUND' }),
      message: Type.String(),
      request_id: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { title: 'Error', description: 'Error envelope' },
);

/** Error responses a route may give, all in the envelope. */
export function errorResponses(...codes: number[]): Record<number, typeof ErrorEnvelope> {
  return Object.fromEntries(codes.map((c) => [c, ErrorEnvelope]));
}

export const Paging = {
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  // Bounded so that no client-chosen number reaches the database beyond what its integer types hold.
  offset: Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 0 }),
};

/** The Idempotency-Key header of the POSTs that create work (documented; checked by src/app/idempotency.ts). */
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ description: 'Makes a retry safe: the same key and the same request within 24 h get the first answer (Idempotent-Replayed: true); the same key with another request is a 409. 1-255 visible ASCII characters, e.g. a UUID' }),
  ),
});

/** The security requirements of authenticated routes, for OpenAPI. */
export const secured: { [scheme: string]: string[] }[] = [{ apiKey: [] }, { bearer: [] }];
