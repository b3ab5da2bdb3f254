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
  }
  interface FastifyRequest {
    tenantId: string;
  }
}

export const hashApiKey = (key: string): string => createHash('sha256').update(key).digest('hex');
export const generateApiKey = (): string => `bp_${randomBytes(32).toString('base64url')}`;

function bearer(request: FastifyRequest): string {
  const header = request.headers.authorization;
  const match = header && /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw Errors.UNAUTHORIZED();
  return match[1];
}

export default fp<{ adminApiKey: string }>(
  async (app, opts) => {
    const adminHash = Buffer.from(hashApiKey(opts.adminApiKey));
    app.decorateRequest('tenantId', '');
    app.decorate('authenticate', async (request: FastifyRequest) => {
      const tenant = await app.repos.tenants.findByKeyHash(hashApiKey(bearer(request)));
      if (!tenant) throw Errors.UNAUTHORIZED('API key is not valid');
      request.tenantId = tenant.id;
    });
    app.decorate('authenticateAdmin', async (request: FastifyRequest) => {
      // Comparing hashes keeps the comparison constant-time whatever the key's length.
      if (!timingSafeEqual(Buffer.from(hashApiKey(bearer(request))), adminHash)) throw Errors.FORBIDDEN();
    });
  },
  { name: 'auth', dependencies: ['prisma'] },
);
