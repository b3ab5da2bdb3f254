// Idempotency-Key on routes with `config: { idempotent: true }`: the first request with a key claims it, a
// successful (2xx) response is stored, and a retry with the same key and request gets that response again with
// Idempotent-Replayed: true. Keys are scoped to the tenant and the route; failures are not stored, so a retry
// after a 4xx/5xx runs again.
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { idempotencyRepository, type IdempotencyScope } from '../../db/idempotency.js';
import { Errors } from '../errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    idempotent?: boolean;
  }
  interface FastifyRequest {
    idempotencyScope: IdempotencyScope | null;
  }
}

const PURGE_EVERY_MS = 3600_000;

/**
 * The query string and the body as parsed: what makes a retry "the same request". A streamed CSV upload stands for
 * itself as its SHA-256 (CsvUpload.toJSON); no other body reaches here as text, since validation comes first.
 */
function requestHash(request: FastifyRequest): string {
  const hash = createHash('sha256').update(JSON.stringify(request.query ?? {})).update('\n');
  return hash.update(`json:${JSON.stringify(request.body ?? null)}`).digest('hex');
}

export default fp<{ ttlSeconds: number }>(
  async (app, opts) => {
    const repo = idempotencyRepository(app.db, opts.ttlSeconds * 1000);
    app.decorateRequest('idempotencyScope', null);

    const claimKey = async (request: FastifyRequest, reply: FastifyReply) => {
      const key = request.headers['idempotency-key'];
      if (typeof key !== 'string') return;
      const scope = { tenantId: request.tenantId, route: `${request.method} ${request.routeOptions.url}`, key };
      const claim = await repo.claim(scope, requestHash(request));
      if (claim.kind === 'mismatch') {
        throw Errors.IDEMPOTENCY_MISMATCH(`Idempotency-Key ${JSON.stringify(key)} was already used with a different request; send a new key for a new request`, {
          field: 'headers.idempotency-key',
        });
      }
      if (claim.kind === 'in-progress') throw Errors.IDEMPOTENCY_IN_PROGRESS();
      if (claim.kind === 'replay') return reply.header('idempotent-replayed', 'true').status(claim.statusCode).send(claim.response);
      request.idempotencyScope = scope;
    };

    const recordResponse = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
      const scope = request.idempotencyScope;
      if (!scope) return payload;
      request.idempotencyScope = null;
      try {
        if (reply.statusCode >= 200 && reply.statusCode < 300 && typeof payload === 'string') {
          await repo.complete(scope, reply.statusCode, JSON.parse(payload));
        } else {
          await repo.release(scope);
        }
      } catch (err) {
        // The response itself is fine; a retry finds the key in progress until the claim is abandoned.
        request.log.error({ err }, 'could not record the idempotent response');
      }
      return payload;
    };

    // Only routes marked idempotent get the hooks, so every other request (predictions above all) skips them.
    app.addHook('onRoute', (route) => {
      if (!route.config?.idempotent) return;
      route.preHandler = [route.preHandler ?? [], claimKey].flat() as typeof route.preHandler;
      route.onSend = [route.onSend ?? [], recordResponse].flat() as typeof route.onSend;
    });

    const purge = setInterval(() => {
      repo.purgeExpired().catch((err: unknown) => app.log.warn({ err }, 'purging expired idempotency keys failed'));
    }, PURGE_EVERY_MS);
    purge.unref();
    app.addHook('onClose', async () => clearInterval(purge));
  },
  { name: 'idempotency', dependencies: ['prisma', 'auth'] },
);
