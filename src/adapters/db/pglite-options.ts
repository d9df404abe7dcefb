/** Embedded PostgreSQL settings: small shared buffers keep the API's resident memory low (PGlite's wasm heap). */
export const PGLITE_OPTIONS = { postgresqlconf: 'shared_buffers=16MB' };
