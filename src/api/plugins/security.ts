// Security headers (helmet) and per-key rate limits kept in Redis, so every API process shares them.
import { createHash } from 'node:crypto';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Errors } from '../errors.js';

export interface SecurityOptions {
  rateLimitMax: number;
  rateLimitWindowMs: number;
}

/** The bearer token's hash (never the key itself in Redis), else the client's address. */
function rateLimitKey(request: FastifyRequest): string {
  const match = /^Bearer\s+(\S+)/i.exec(request.headers.authorization ?? '');
  return match ? `key:${createHash('sha256').update(match[1]).digest('hex')}` : `ip:${request.ip}`;
}

export default fp<SecurityOptions>(
  async (app, opts) => {
    // Helmet's defaults (CSP 'self' only, HSTS, nosniff, frame-ancestors 'self'...) suit both the JSON API and the
    // swagger UI, whose page loads only its own scripts and styles. Except upgrade-insecure-requests: the API
    // listens on plain HTTP (TLS, if any, ends at a proxy), and browsers would fetch the UI's assets over https.
    await app.register(helmet, { global: true, contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } });

    await app.register(rateLimit, {
      global: false,
      max: opts.rateLimitMax,
      timeWindow: opts.rateLimitWindowMs,
      redis: app.redis,
      nameSpace: `${app.queuePrefix}:rate-limit:`,
      // Redis down: serve rather than fail every request (readiness reports the outage).
      skipOnError: true,
      keyGenerator: rateLimitKey,
      errorResponseBuilder: (_request, context) =>
        Errors.RATE_LIMITED(`rate limit of ${context.max} requests per ${context.after} exceeded; retry in ${Math.max(1, Math.ceil(context.ttl / 1000))} s`, {
          limit: context.max,
          retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)),
        }),
    });
    // An instance-wide hook runs before the route plugins' authentication, so a flood is turned away before it
    // costs a database lookup; health checks and the docs are not limited.
    const limit = app.rateLimit();
    app.addHook('onRequest', async (request, reply) => {
      if (request.url.startsWith('/v1/')) await limit.call(app, request, reply);
    });
  },
  { name: 'security', dependencies: ['queue'] },
);
