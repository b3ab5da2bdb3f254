import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.js';

export type Db = PrismaClient;

/** Without it pg waits forever for a host that accepts the TCP connection but never answers. */
const CONNECT_TIMEOUT_MS = 5000;

/** The pg pool under each client, for the bulk transfers Prisma makes slow: COPY of packed dataset arrays (src/db/bytea-copy.ts). */
const pools = new WeakMap<Db, pg.Pool>();

/** One client per process; the pg adapter runs on our pool (ended on $disconnect), so no Rust query engine runs. */
export function createDb(databaseUrl: string): Db {
  const pool = new pg.Pool({ connectionString: databaseUrl, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // An idle connection that breaks (Postgres restarting) is dropped by the pool; the next query reconnects and
  // reports the outage itself. Without a listener the 'error' event would end the process.
  pool.on('error', () => undefined);
  const db = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  pools.set(db, pool);
  return db;
}

/** Postgres refused a row whose foreign key names a row that is gone (deleted since it was read): Prisma's P2003. */
export const isForeignKeyViolation = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === 'P2003';

export function poolOf(db: Db): pg.Pool {
  const pool = pools.get(db);
  if (!pool) throw new Error('this Prisma client was not made by createDb');
  return pool;
}
