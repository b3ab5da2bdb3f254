// A worker started beside the API (npm run dev, two terminals, docker-compose) may start before the API has applied
// the migrations: it waits until every migration it ships with is applied, instead of querying a column that is
// not there yet.
import { setTimeout as sleep } from 'node:timers/promises';
import { pendingMigrations } from '../db/migrate.js';
import type { Logger } from '../logger.js';

export async function waitForSchema(databaseUrl: string, log: Logger, intervalMs = 500): Promise<void> {
  let said = '';
  for (;;) {
    const pending = await pendingMigrations(databaseUrl).catch((err: Error) => err);
    if (Array.isArray(pending) && pending.length === 0) {
      if (said) log.info('database schema is current');
      return;
    }
    const why = Array.isArray(pending)
      ? `waiting for the database schema: ${pending.length} migration(s) not applied yet (the API applies them at start; or npm run migrate)`
      : `waiting for the database: ${pending.message}`;
    // Once per state, not once per attempt.
    if (why !== said) log.warn(Array.isArray(pending) ? { pending } : {}, why);
    said = why;
    await sleep(intervalMs);
  }
}
