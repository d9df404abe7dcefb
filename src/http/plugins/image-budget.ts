/**
 * Image requests take their decoded pixels from the shared ImageBudget once their file has arrived (its header says
 * how many), and give them back when the response is over — however it ends.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ImageBudget } from '../../app/image-budget.js';
import type { ImageDecoder } from '../../app/ports.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Waits for room in the image budget for these images, together (503 when there is none in time). */
    admitImage(...images: Uint8Array[]): Promise<void>;
  }
}

const HELD = Symbol('argus.imageBudget');

type WithHeld = FastifyRequest & { [HELD]?: (() => void)[] };

/** Adds `request.admitImage` in this scope, backed by `budget`. */
export function imageBudget(app: FastifyInstance, budget: ImageBudget, decoder: ImageDecoder): void {
  app.decorateRequest('admitImage', async function (this: FastifyRequest, ...images: Uint8Array[]): Promise<void> {
    let pixels = 0;
    for (const data of images) {
      try {
        const info = await decoder.probe(data);
        pixels += info.width * info.height;
      } catch {
        // Not an image this server can read: the analysis refuses it without decoding anything.
      }
    }
    if (pixels === 0) return;
    // One request takes all its room at once: taking it image by image could wait on itself.
    const release = await budget.acquire(pixels);
    const req = this as WithHeld;
    (req[HELD] ??= []).push(release);
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.raw.once('close', () => {
      for (const release of (request as WithHeld)[HELD] ?? []) release();
    });
  });
}
