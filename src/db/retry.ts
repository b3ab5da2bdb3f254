// Telling "Postgres is unreachable right now" apart from every other database error, and retrying only the former.
// Through the pg driver adapter an outage shows up in four shapes: a Prisma error whose driver-adapter cause names
// the socket problem, the adapter's own DriverAdapterError (a COMMIT on a connection that broke: `cause.kind`), a
// Prisma P1xxx code, or pg's own plain Error for a connection that broke under a query.

const UNAVAILABLE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
/** P1001 can't reach, P1002 timed out, P1008 operation timeout, P1017 server closed the connection, P2024 pool timeout. */
const UNAVAILABLE_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);
/** SQLSTATE class 08 (connection exception), 57P01-57P03 (server shutting down or starting), 53300 (too many connections). */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123]|53300)$/;
const PG_CONNECTION_MESSAGES = /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect|Can't reach database server/i;

interface ErrorLike {
  code?: unknown;
  /** A driver-adapter error's cause: `{ kind: 'ConnectionClosed' }`. */
  kind?: unknown;
  message?: unknown;
  cause?: unknown;
  meta?: { driverAdapterError?: { cause?: { kind?: string; code?: string; originalCode?: string } } };
}

export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 4) return false;
  const e = err as ErrorLike;
  const cause = e.meta?.driverAdapterError?.cause;
  if (cause?.kind && UNAVAILABLE_KINDS.has(cause.kind)) return true;
  if (typeof e.kind === 'string' && UNAVAILABLE_KINDS.has(e.kind)) return true;
  const sqlState = cause?.originalCode ?? cause?.code;
  if (typeof sqlState === 'string' && UNAVAILABLE_SQLSTATE.test(sqlState)) return true;
  if (typeof e.code === 'string' && (UNAVAILABLE_PRISMA_CODES.has(e.code) || SOCKET_CODES.has(e.code) || UNAVAILABLE_SQLSTATE.test(e.code))) return true;
  if (typeof e.message === 'string' && PG_CONNECTION_MESSAGES.test(e.message)) return true;
  return isDatabaseUnavailable(e.cause, depth + 1);
}

const INITIAL_DELAY_MS = 100;
const MAX_DELAY_MS = 5000;

/**
 * Runs `work` until it succeeds, retrying with exponential backoff (and jitter, so many writers do not reconnect in
 * step) while the database is unreachable. Any other error is thrown at once. Callers pass idempotent work only.
 * `onRetry` is called before each wait.
 */
export async function retryWhileUnavailable<T>(work: () => Promise<T>, onRetry: (err: unknown, attempt: number, delayMs: number) => void): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      const ceiling = Math.min(MAX_DELAY_MS, INITIAL_DELAY_MS * 2 ** (attempt - 1));
      const delayMs = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
      onRetry(err, attempt, delayMs);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
