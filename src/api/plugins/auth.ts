// Authentication by bearer API key (src/api/api-keys.ts): tenant keys by their hash, the admin key by comparison.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { KeyOwner } from '../../db/tenants.js';
import { apiKeyHash, hashApiKey } from '../api-keys.js';
import { Errors } from '../errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    authenticate: (request: FastifyRequest) => Promise<void>;
    authenticateAdmin: (request: FastifyRequest) => Promise<void>;
    /** Drops every cached key lookup; called when a key is revoked or a tenant's budgets change. */
    forgetApiKeys: () => void;
    /** The tenant (and its rate-limit budgets) of the request's bearer key; null without a key or for an unknown one. Looked up once per request. */
    apiKeyOwner: (request: FastifyRequest) => Promise<KeyOwner | null>;
    /** The same for a key's hash, through the same cache: an open event stream re-checks its key with it. */
    apiKeyOwnerOfHash: (hash: string) => Promise<KeyOwner | null>;
    /** Whether the request's bearer key is the admin key. */
    isAdminKey: (request: FastifyRequest) => boolean;
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
    // Lookups are remembered for cacheTtlMs so a burst of predictions costs no database round trip per request,
    // unknown keys too (so a flood with one bad key is not a flood of queries). A revocation or a budget change
    // takes effect at once in every process (the revocation is broadcast, plugins/deletions.ts), a budget change at
    // once in the process that made it and within the TTL elsewhere. Random 256-bit keys are never looked up before
    // they are issued, so remembering "unknown" cannot hide a new key. The lookup in flight is what is cached, so
    // requests (or event streams) asking at once for the same key share one query; a failed one is not kept.
    const cache = new Map<string, { owner: Promise<KeyOwner | null>; expires: number }>();
    const lookups = new WeakMap<FastifyRequest, Promise<KeyOwner | null>>();

    function lookUp(hash: string): Promise<KeyOwner | null> {
      const now = Date.now();
      const hit = cache.get(hash);
      if (hit && hit.expires > now) return hit.owner;
      const owner = app.repos.tenants.findByKeyHash(hash);
      if (opts.cacheTtlMs > 0) {
        const entry = { owner, expires: now + opts.cacheTtlMs };
        cache.delete(hash);
        cache.set(hash, entry);
        if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
        owner.catch(() => cache.get(hash) === entry && cache.delete(hash));
      }
      return owner;
    }

    app.decorateRequest('tenantId', '');
    app.decorate('forgetApiKeys', () => cache.clear());
    app.decorate('apiKeyOwnerOfHash', lookUp);
    app.decorate('apiKeyOwner', (request: FastifyRequest) => {
      let lookup = lookups.get(request);
      if (!lookup) {
        const hash = apiKeyHash(request);
        lookup = hash === null ? Promise.resolve(null) : lookUp(hash);
        lookups.set(request, lookup);
      }
      return lookup;
    });
    app.decorate('authenticate', async (request: FastifyRequest) => {
      requireKeyHash(request);
      const owner = await app.apiKeyOwner(request);
      if (!owner) throw Errors.UNAUTHORIZED('API key is not valid (unknown or revoked)');
      request.tenantId = owner.tenantId;
    });
    // Comparing hashes keeps the comparison constant-time whatever the key's length.
    const isAdminKey = (request: FastifyRequest) => {
      const hash = apiKeyHash(request);
      return hash !== null && timingSafeEqual(Buffer.from(hash), adminHash);
    };
    app.decorate('isAdminKey', isAdminKey);
    app.decorate('authenticateAdmin', async (request: FastifyRequest) => {
      requireKeyHash(request);
      if (!isAdminKey(request)) throw Errors.FORBIDDEN();
    });
  },
  { name: 'auth', dependencies: ['prisma'] },
);
