// What both directions of binary COPY share: the format's signature, and a connection that is dropped rather than
// returned to the pool when a COPY fails half-way (its protocol state is then unknown).
// https://www.postgresql.org/docs/current/sql-copy.html, "Binary Format".
import type pg from 'pg';

export const COPY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** Runs `copy` on a pooled connection, which goes back to the pool only if `copy` succeeded. */
export async function withCopyClient<T>(pool: pg.Pool, copy: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    return await copy(client);
  } catch (err) {
    broken = err as Error;
    throw err;
  } finally {
    client.release(broken);
  }
}
