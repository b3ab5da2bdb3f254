// Security headers (helmet) and per-key rate limits kept in Redis, so every API process shares them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';
import { apiKeyHash } from '../api-keys.js';
import { Errors } from '../errors.js';
import { leasedRedisStore } from '../rate-limit-store.js';

export interface SecurityOptions {
  rateLimitMax: number;
  rateLimitWindowMs: number;
}

// Pages (the swagger UI, the dashboard) and everything outside /v1 get helmet's defaults (CSP 'self' only, HSTS,
// nosniff, frame-ancestors 'self'...): the UI loads only its own scripts and styles. Except
// upgrade-insecure-requests: the API listens on plain HTTP (TLS, if any, ends at a proxy), and browsers would fetch
// the UI's assets over https.
const HELMET_OPTIONS: HelmetOptions = { contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } };

/**
 * Answers under /v1 are JSON (or files and event streams) that no browser renders: they get the set OWASP's REST
 * Security Cheat Sheet names, stricter than the pages' (nothing may load or frame from them, no cache keeps a
 * tenant's data) and under half the bytes, which every prediction pays for on both ends of the connection.
 */
const API_HEADERS: Record<string, string> = {
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/**
 * The headers helmet sets for these options, computed once. Without CSP nonces (none here) every value is fixed;
 * @fastify/helmet rebuilds helmet and re-parses the CSP on every request, which cost 9% of a prediction's CPU.
 */
function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = { setHeader: (name: string, value: string) => (headers[name.toLowerCase()] = value), removeHeader: () => undefined };
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err;
  });
  return headers;
}

/** The bearer token's hash (never the key itself in Redis), else the client's address. */
function rateLimitKey(request: FastifyRequest): string {
  const hash = apiKeyHash(request);
  return hash ? `key:${hash}` : `ip:${request.ip}`;
}

export default fp<SecurityOptions>(
  async (app, opts) => {
    const pageHeaders = helmetHeaders(HELMET_OPTIONS);
    await app.register(rateLimit, {
      global: false,
      max: opts.rateLimitMax,
      timeWindow: opts.rateLimitWindowMs,
      // Counted in Redis, so every API process shares a key's limit; leased in blocks (rate-limit-store.ts).
      store: leasedRedisStore(app.redis, `${app.queuePrefix}:rate-limit:`),
      // The store never fails a request: while Redis is unreachable it counts in this process alone.
      skipOnError: false,
      keyGenerator: rateLimitKey,
      errorResponseBuilder: (_request, context) =>
        Errors.RATE_LIMITED(`rate limit of ${context.max} requests per ${context.after} exceeded; retry in ${Math.max(1, Math.ceil(context.ttl / 1000))} s`, {
          limit: context.max,
          retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)),
        }),
    });
    // One instance-wide hook: the headers first (a 429 carries them too), then the limit, before the route plugins'
    // authentication, so a flood is turned away before it costs a database lookup. Health checks and the docs are
    // not limited.
    const limit = app.rateLimit();
    app.addHook('onRequest', (request, reply, done) => {
      const api = request.url.startsWith('/v1/');
      reply.headers(api ? API_HEADERS : pageHeaders);
      if (!api) return done();
      limit.call(app, request, reply).then(() => done(), done);
    });
  },
  { name: 'security', dependencies: ['queue'] },
);
