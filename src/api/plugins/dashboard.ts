// The training dashboard: public/ served as static files at / (index.html, app.js, vendored uPlot). No build step
// and no CDN: helmet's default CSP ('self' only) allows all of it. The folder is found relative to this file, which
// is three levels below the repository root both compiled (dist/api/plugins/) and under vitest (src/api/plugins/).
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import fp from 'fastify-plugin';

export const PUBLIC_DIR = fileURLToPath(new URL('../../../public/', import.meta.url));

export default fp(
  async (app) => {
    await app.register(fastifyStatic, {
      root: PUBLIC_DIR,
      prefix: '/',
      // One route per file present at start, rather than a catch-all: unknown paths keep the API's 404 body.
      wildcard: false,
      index: ['index.html'],
      // The swagger UI registers @fastify/static as well; its reply.sendFile is not needed here.
      decorateReply: false,
      // Revalidated on every load (ETag / Last-Modified), so a new release is picked up at once.
      maxAge: 0,
    });
  },
  { name: 'dashboard' },
);
