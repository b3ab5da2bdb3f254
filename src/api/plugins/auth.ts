// Authentication by bearer API key (src/api/api-keys.ts): tenant keys by their hash, the admin key by comparison.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { apiKeyHash, hashApiKey } from '../api-keys.js';
import { Errors } from '../errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    authenticate: (request: FastifyRequest) => Promise<void>;
    authenticateAdmin: (request: FastifyRequest) => Promise<void>;
    /** Drops every cached key lookup; called when a key is revoked. */
    forgetApiKeys: () => void;
  }
  interface FastifyRequest {
    tenantId: string;
  }
}

function requireKeyHash(request: FastifyRequest): string {
  const hash = apiKeyHash(request);
  if (hash === null) throw Errors.UNAUTHORIZED();
  return hash;
}

/** Bounds the lookup cache whatever the number of keys in use; the oldest entries go first. */
const CACHE_ENTRIES = 10_000;

export default fp<{ adminApiKey: string; cacheTtlMs: number }>(
  async (app, opts) => {
    const adminHash = Buffer.from(hashApiKey(opts.adminApiKey));
    // Valid keys are remembered for cacheTtlMs so a burst of predictions costs no database round trip per
    // request. A revocation takes effect at once in the process that revoked and within the TTL elsewhere.
    const cache = new Map<string, { tenantId: string; expires: number }>();
    app.decorateRequest('tenantId', '');
    app.decorate('forgetApiKeys', () => cache.clear());
    app.decorate('authenticate', async (request: FastifyRequest) => {
      const hash = requireKeyHash(request);
      const now = Date.now();
      const hit = cache.get(hash);
      if (hit && hit.expires > now) {
        request.tenantId = hit.tenantId;
        return;
      }
      const key = await app.repos.tenants.findByKeyHash(hash);
      if (!key) throw Errors.UNAUTHORIZED('API key is not valid (unknown or revoked)');
      request.tenantId = key.tenantId;
      if (opts.cacheTtlMs > 0) {
        cache.delete(hash);
        cache.set(hash, { tenantId: key.tenantId, expires: now + opts.cacheTtlMs });
        if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
      }
    });
    app.decorate('authenticateAdmin', async (request: FastifyRequest) => {
      // Comparing hashes keeps the comparison constant-time whatever the key's length.
      if (!timingSafeEqual(Buffer.from(requireKeyHash(request)), adminHash)) throw Errors.FORBIDDEN();
    });
  },
  { name: 'auth', dependencies: ['prisma'] },
);
