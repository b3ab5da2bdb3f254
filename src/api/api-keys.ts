// Bearer API keys. Tenant keys are random 256-bit secrets, so a plain sha256 is a safe, indexable hash
// (slow password hashes exist for low-entropy secrets).
import { hash, randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

/** One-shot crypto.hash: no Hash object per call, which halves the cost of hashing a key on every request. */
export const hashApiKey = (key: string): string => hash('sha256', key, 'hex');

/** A new key (256 random bits) and what is stored of it: its hash, and a prefix short enough to reveal nothing useful. */
export function issueApiKey(): { apiKey: string; hash: string; prefix: string } {
  const apiKey = `bp_${randomBytes(32).toString('base64url')}`;
  return { apiKey, hash: hashApiKey(apiKey), prefix: apiKey.slice(0, 10) };
}

/** The token of an `Authorization: Bearer <token>` header, or null without one. */
function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  return (header && /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1]) || null;
}

const hashes = new WeakMap<FastifyRequest, string | null>();

/** The hash of the request's bearer token (null without one), computed once: the rate limit and auth both need it. */
export function apiKeyHash(request: FastifyRequest): string | null {
  let digest = hashes.get(request);
  if (digest === undefined) {
    const token = bearerToken(request);
    digest = token === null ? null : hashApiKey(token);
    hashes.set(request, digest);
  }
  return digest;
}
