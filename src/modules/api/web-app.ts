import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * The web app's build (web/, built by Vite into dist/web at `npm run build`). From the compiled server
 * (dist/src/modules/api) and from the sources the tests run (src/modules/api) alike.
 */
export function webAppDirectory(): string {
  const above = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
  return basename(above) === 'dist' ? join(above, 'web') : join(above, 'dist', 'web');
}

export interface WebAppOptions {
  /** MAP_TILE_URL: a raster tile server the route maps may draw on; none is fetched without it. */
  mapTileUrl?: string;
  directory?: string;
}

const escapeAttribute = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/**
 * The athletes' web app at /app: a single page (hash routes) and its hashed assets, same origin as
 * the API so the session cookie authenticates its calls. Nothing is loaded from anywhere else (the
 * CSP of /app, src/common/security.ts, allows only this origin and the tile server when one is set).
 * Without a build (`npm run build` not run) /app answers 404 saying so.
 */
export async function registerWebApp(fastify: FastifyInstance, options: WebAppOptions = {}): Promise<void> {
  const directory = options.directory ?? webAppDirectory();
  const indexFile = join(directory, 'index.html');
  let page: string | undefined;
  const index = async (_request: unknown, reply: FastifyReply) => {
    if (!existsSync(indexFile)) {
      return reply.status(404).type('text/plain; charset=utf-8').send('The web app is not built: run `npm run build`.\n');
    }
    page ??= readFileSync(indexFile, 'utf8').replace(
      '<!--app-config-->',
      options.mapTileUrl ? `<meta name="map-tile-url" content="${escapeAttribute(options.mapTileUrl)}">` : '',
    );
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(page);
  };
  fastify.get('/app', { schema: { hide: true } }, index);
  fastify.get('/app/', { schema: { hide: true } }, index);
  fastify.get('/app/index.html', { schema: { hide: true } }, index);

  const { default: fastifyStatic } = await import('@fastify/static');
  await fastify.register(async (scope) => {
    await scope.register(fastifyStatic, {
      root: join(directory, 'assets'),
      prefix: '/app/assets/',
      decorateReply: false,
      index: false,
      wildcard: true,
      // File names carry their content hash (Vite): they never change.
      immutable: true,
      maxAge: '365d',
    });
  });
}
