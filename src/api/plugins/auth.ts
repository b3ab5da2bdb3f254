// Bearer API keys. Tenant keys are random 256-bit secrets, so a plain sha256 is a safe, indexable hash
// (slow password hashes exist for low-entropy secrets).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
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

export const hashApiKey = (key: string): string => createHash('sha256').update(key).digest('hex');
/** A new key (256 random bits) and what is stored of it: its hash, and a prefix short enough to reveal nothing useful. */
export function issueApiKey(): { apiKey: string; hash: string; prefix: string } {
  const apiKey = `bp_${randomBytes(32).toString('base64url')}`;
  return { apiKey, hash: hashApiKey(apiKey), prefix: apiKey.slice(0, 10) };
}

function bearer(request: FastifyRequest): string {
  const header = request.headers.authorization;
  const match = header && /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw Errors.UNAUTHORIZED();
  return match[1];
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
      const hash = hashApiKey(bearer(request));
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
      if (!timingSafeEqual(Buffer.from(hashApiKey(bearer(request))), adminHash)) throw Errors.FORBIDDEN();
    });
  },
  { name: 'auth', dependencies: ['prisma'] },
);
