/**
 * The ports the use cases are written against. Adapters in `src/adapters` implement them; tests swap in fakes
 * or the real thing.
 */
export type * from './ports/access.js';
export type * from './ports/media.js';
export type * from './ports/images.js';
export type * from './ports/inference.js';
export type * from './ports/jobs.js';
export type * from './ports/webhooks.js';
export type * from './ports/video.js';
export type * from './ports/faces.js';
