/**
 * Creates an embedded PostgreSQL cluster in the directory given as argument, then exits. Run as a child process
 * so that initdb's large wasm heap is returned to the system with the process instead of staying in the server.
 */
import { PGlite } from '@electric-sql/pglite';
import { PGLITE_OPTIONS } from './pglite-options.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: pglite-initdb DIR');
await (await PGlite.create(dir, PGLITE_OPTIONS)).close();
