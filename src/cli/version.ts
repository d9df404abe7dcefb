/** Argus's version as `argus --version` prints it: the one in package.json, so it cannot drift from a release. */
import { createRequire } from 'node:module';

/** The version in Argus's package.json (read from dist/cli or src/cli alike: both sit two levels below it). */
export const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
