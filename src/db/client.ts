import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';

export type Db = PrismaClient;

/** Without it pg waits forever for a host that accepts the TCP connection but never answers. */
const CONNECT_TIMEOUT_MS = 5000;

/** One client per process; the pg adapter keeps its own pool, so no Rust query engine runs. */
export function createDb(databaseUrl: string): Db {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, connectionTimeoutMillis: CONNECT_TIMEOUT_MS }) });
}
