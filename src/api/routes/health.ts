import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorBodySchema } from '../../contracts/common.js';
import { Errors } from '../errors.js';

const CHECK_TIMEOUT_MS = 2000;

async function check(probe: () => Promise<unknown>): Promise<'ok' | 'unreachable'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS)));
  try {
    await Promise.race([probe(), timeout]);
    return 'ok';
  } catch {
    return 'unreachable';
  } finally {
    clearTimeout(timer);
  }
}

const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/health',
    { schema: { tags: ['health'], summary: 'The process is up', response: { 200: z.object({ status: z.literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );
  app.get(
    '/ready',
    {
      schema: {
        tags: ['health'],
        summary: 'Postgres and Redis are reachable',
        response: {
          200: z.object({ status: z.literal('ready'), checks: z.object({ postgres: z.literal('ok'), redis: z.literal('ok') }) }),
          503: errorBodySchema,
        },
      },
    },
    async () => {
      const checks = {
        postgres: await check(() => app.db.$queryRaw`SELECT 1`),
        redis: await check(() => app.redis.ping()),
      };
      if (checks.postgres !== 'ok' || checks.redis !== 'ok') throw Errors.UNAVAILABLE('not ready', { checks });
      return { status: 'ready' as const, checks: { postgres: 'ok' as const, redis: 'ok' as const } };
    },
  );
};
export default healthRoutes;
