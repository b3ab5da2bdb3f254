// Security headers (helmet) and per-tenant rate limits kept in Redis, so every API process shares them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';
import { Errors } from '../errors.js';
import type { KeyOwner } from '../../db/tenants.js';
import { rateLimitSubject, type RateLimitDefaults } from '../rate-limit-budgets.js';
import { LeasedRedisStore } from '../rate-limit-store.js';

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

export default fp<{ limits: RateLimitDefaults }>(
  async (app, { limits }) => {
    const pageHeaders = helmetHeaders(HELMET_OPTIONS);
    // Counted in Redis, so every API process shares a tenant's budgets; leased in blocks (rate-limit-store.ts).
    const store = new LeasedRedisStore(app.redis, `${app.queuePrefix}:rate-limit:`);
    const windowSeconds = Math.ceil(limits.windowMs / 1000);

    /** Spends one request of the request's budget; an Error (429) when that budget is spent. */
    const limit = (request: FastifyRequest, reply: FastifyReply, owner: KeyOwner | null, done: (err?: Error) => void) => {
      const { budget, key, max } = rateLimitSubject(request, owner, owner === null && app.isAdminKey(request), limits);
      store.incr(key, limits.windowMs, max, ({ current, ttl }) => {
        const reset = Math.max(1, Math.ceil(ttl / 1000));
        reply.header('x-ratelimit-limit', max).header('x-ratelimit-remaining', Math.max(0, max - current)).header('x-ratelimit-reset', reset);
        if (current <= max) return done();
        // Which budget ran out and when it refills, also as the IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers).
        reply.header('retry-after', reset).header('ratelimit-policy', `"${budget}";q=${max};w=${windowSeconds}`).header('ratelimit', `"${budget}";r=0;t=${reset}`);
        done(
          Errors.RATE_LIMITED(`${budget} budget of ${max} per ${windowSeconds} s is spent; it refills then: retry in ${reset} s`, {
            budget,
            limit: max,
            windowSeconds,
            retryAfterSeconds: reset,
          }),
        );
      });
    };

    // One instance-wide hook: the headers first (a 429 carries them too), then the limit, before the route plugins'
    // authentication, so a flood is turned away before the route runs. The key's tenant (and its budgets) is looked
    // up here, once per request and cached (plugins/auth.ts); authentication reuses it. Health checks and the docs
    // are not limited.
    app.addHook('onRequest', (request, reply, done) => {
      const api = request.url.startsWith('/v1/');
      reply.headers(api ? API_HEADERS : pageHeaders);
      if (!api) return done();
      app.apiKeyOwner(request).then((owner) => limit(request, reply, owner, done), done);
    });
  },
  { name: 'security', dependencies: ['queue', 'auth'] },
);
