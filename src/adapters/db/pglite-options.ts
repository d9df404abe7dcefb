import { vector } from '@electric-sql/pglite-pgvector';

/**
 * Embedded PostgreSQL settings: small shared buffers keep the API's resident memory low (PGlite's wasm heap), and
 * pgvector for face embeddings.
 */
export const PGLITE_OPTIONS = { postgresqlconf: 'shared_buffers=16MB', extensions: { vector } };
