// `npm run dev` only: creates the database DATABASE_URL names when the server has none by that name, and turns "no
// server there" into one line saying what to start. `npm start` never creates databases.
import pg from 'pg';

/** Postgres's code for "database does not exist". */
const INVALID_CATALOG_NAME = '3D000';
/** ...and for "database already exists" (another process created it first). */
const DUPLICATE_DATABASE = '42P04';

export class DatabaseUnreachableError extends Error {
  override name = 'DatabaseUnreachableError';
}

const where = (url: URL) => `${url.hostname}:${url.port || 5432}`;

async function connect(url: URL): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    return client;
  } catch (err) {
    await client.end().catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || /timeout/i.test((err as Error).message)) {
      throw new DatabaseUnreachableError(`no Postgres answers at ${where(url)} (DATABASE_URL)`);
    }
    throw err;
  }
}

/** Connects to the database, creating it (from the server's `postgres` database) when it is missing; true when created. */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  try {
    await (await connect(url)).end();
    return false;
  } catch (err) {
    if ((err as { code?: string }).code !== INVALID_CATALOG_NAME) throw err;
  }
  const name = decodeURIComponent(url.pathname.slice(1));
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  const admin = await connect(maintenance);
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === DUPLICATE_DATABASE) return false;
    throw err;
  } finally {
    await admin.end();
  }
}
