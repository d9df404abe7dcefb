/**
 * 405 for a known path asked with a method it does not take. Fastify answers every unmatched request with 404;
 * this module keeps an index of the registered routes (one find-my-way router, the one Fastify itself uses) so the
 * not-found handler can tell "no such path" from "not with this method" and name the methods in `Allow`.
 */
import type { FastifyInstance } from 'fastify';
import Router from 'find-my-way';

/** Methods a route answers, looked up by concrete URL. */
export interface RouteIndex {
  /** The methods registered for this path (HEAD with GET), empty when no route has it. */
  allowed(url: string): string[];
}

/**
 * Starts indexing every route registered from now on. Wildcard routes (the console's page fallback) are left out:
 * they match any path, and a POST to an unknown path must stay a 404, not a 405 naming GET.
 */
export function indexRoutes(app: FastifyInstance): RouteIndex {
  const router = Router();
  const methods = new Set<string>();
  app.addHook('onRoute', (route) => {
    if (route.url.includes('*')) return;
    for (const method of [route.method].flat()) {
      // Two registrations of one method and path would throw; the first is the one Fastify keeps too.
      if (router.hasRoute(method as Router.HTTPMethod, route.url)) continue;
      router.on(method as Router.HTTPMethod, route.url, () => undefined);
      methods.add(method);
    }
  });
  return {
    allowed(url) {
      const path = url.split('?')[0] ?? url;
      return [...methods].filter((m) => router.find(m as Router.HTTPMethod, path) !== null).sort();
    },
  };
}
