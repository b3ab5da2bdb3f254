// A connection can break at any point of a transaction: before it starts, between its statements, or under its
// COMMIT. Each shape of that error must read as "Postgres unreachable", or the worker drops the write instead of
// retrying it (a metric row went missing this way when an outage began under an epoch's COMMIT). Each write below is
// retried until it lands, and lands once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/db/client.js';
import { isDatabaseUnavailable, retryWhileUnavailable } from '../../src/db/retry.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { startTcpProxy, type Cut, type TcpProxy } from '../helpers/tcp-proxy.js';

const CUT_POINTS = ['before the first statement', 'under a statement', 'idle between statements', 'under the COMMIT', 'idle before the COMMIT'] as const;
type CutPoint = (typeof CUT_POINTS)[number];
/** Long enough for the pg client to hear its socket close, so the next statement finds the connection already gone. */
const IDLE_MS = 50;

describe('a connection cut inside a transaction', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let db: Db;

  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
    proxy = await startTcpProxy('127.0.0.1', Number(new URL(database.url).port || 5432));
    db = createDb(proxy.url(database.url));
    await db.$executeRawUnsafe('CREATE TABLE written (key text PRIMARY KEY, n integer NOT NULL)');
  });
  afterAll(async () => {
    await db?.$disconnect();
    await proxy?.stop();
    await database?.drop();
  });

  const cases = CUT_POINTS.flatMap((cutAt) => (['close', 'reset'] as Cut[]).map((how) => ({ cutAt, how })));
  for (const [i, { cutAt, how }] of cases.entries()) {
    it(`${cutAt}, by ${how === 'close' ? 'a FIN' : 'a RST'}: reads as unavailable, and the retried write lands once`, async () => {
      const key = `write-${i}`;
      const errors: unknown[] = [];
      let cut = false;
      // Stopping the proxy destroys its sockets at once, so the cut happens exactly where it is called. "Under" a
      // statement it happens once the statement has reached Postgres, which acts on it while the client never hears.
      const cutHere = async (point: CutPoint) => {
        if (cutAt !== point || cut) return;
        cut = true;
        const under = point.startsWith('under');
        const stopped = under ? proxy.stopAfterNextRequest(how) : proxy.stop(how);
        void stopped.then(() => setTimeout(() => void proxy.start(), 300));
        if (point.startsWith('idle')) await new Promise((r) => setTimeout(r, IDLE_MS));
      };
      await retryWhileUnavailable(
        () =>
          db.$transaction(async (tx) => {
            await cutHere('before the first statement');
            await tx.$executeRaw`INSERT INTO written (key, n) VALUES (${key}, 0) ON CONFLICT (key) DO NOTHING`;
            await cutHere('under a statement');
            await cutHere('idle between statements');
            await tx.$executeRaw`UPDATE written SET n = 1 WHERE key = ${key}`;
            await cutHere('under the COMMIT');
            await cutHere('idle before the COMMIT');
          }),
        (err) => errors.push(err),
      );
      expect(cut).toBe(true);
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.every((err) => isDatabaseUnavailable(err))).toBe(true);
      expect(await db.$queryRaw`SELECT key, n FROM written WHERE key = ${key}`).toEqual([{ key, n: 1 }]);
    });
  }
});
