// The API process's one Redis subscriber for live job events (src/queue/job-events.ts), shared by every event
// stream it serves, and the streams it has open: capped per API key (event-stream-slots.ts), ended before the
// server closes (a stream would otherwise keep close() waiting; clients reconnect to another replica with
// Last-Event-ID), and looked after together at every ping interval, so a ping costs no Postgres query per stream:
// - each stream gets its `: ping` comment;
// - each key with streams open is looked up again through the key cache (one query per key per AUTH_CACHE_TTL_MS):
//   a revoked key's streams end with `event: closed`. A revocation (or a deleted tenant) also ends them at once,
//   on every API process, through the deletions broadcast (plugins/deletions.ts);
// - one query reads the status and last epoch of every job followed. Redis relays each change within
//   milliseconds, so a stream that is still behind what Postgres showed at the previous check has missed a
//   message, and only that stream catches up from Postgres.
import fp from 'fastify-plugin';
import type { JobStatus } from '../../contracts/jobs.js';
import { createRedis } from '../../queue/connection.js';
import { JobEventHub } from '../../queue/job-events.js';
import { EventStreamSlots } from '../event-stream-slots.js';
import type { JobEventStream } from '../job-event-stream.js';

/** An open stream, with whose it is. */
export interface TrackedStream {
  stream: JobEventStream;
  jobId: string;
  tenantId: string;
  keyHash: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    jobEvents: {
      hub: JobEventHub;
      /** EVENTS_MAX_STREAMS_PER_KEY. */
      maxStreamsPerKey: number;
      /** One of the key's stream slots (released by the returned function), or null when it has none left. */
      claim(keyHash: string): Promise<(() => void) | null>;
      /** Looks after an open stream until it closes (pings, key and job checks, closing at shutdown). */
      track(tracked: TrackedStream): void;
    };
  }
}

interface Followed extends TrackedStream {
  /** What Postgres said of the job at the last check. */
  seen?: { status: JobStatus; epoch: number };
}

const KEY_REVOKED = { code: 'ERR_UNAUTHORIZED', message: 'the API key of this stream was revoked (or its tenant deleted); the stream ends' };

export default fp<{ redisUrl: string; pingIntervalMs: number; maxStreamsPerKey: number }>(
  async (app, opts) => {
    const subscriber = createRedis(opts.redisUrl, 'client');
    // ioredis reconnects (and resubscribes) by itself; streams catch up from Postgres meanwhile.
    subscriber.on('error', (err) => app.log.debug({ err }, 'job events subscriber: redis error'));
    const hub = new JobEventHub(subscriber, app.queuePrefix);
    // The connection fails commands while it is not ready (no offline queue), so subscribe once it is.
    const listen = (): void => {
      hub.start().catch((err: unknown) => {
        app.log.warn({ err }, 'could not subscribe to job events; retrying when Redis is back');
        subscriber.once('ready', listen);
      });
    };
    if (subscriber.status === 'ready') listen();
    else subscriber.once('ready', listen);

    const slots = new EventStreamSlots(app.redis, app.queuePrefix, opts.maxStreamsPerKey, opts.pingIntervalMs, app.log);
    const open = new Set<Followed>();

    // Both checks act on the streams open when they began: a stream opened meanwhile was not looked up.

    /** Ends the streams whose key no longer authenticates as their tenant. */
    async function checkKeys(): Promise<void> {
      const streams = [...open];
      const keys = [...new Set(streams.map((s) => s.keyHash))];
      const owners = new Map(await Promise.all(keys.map(async (hash) => [hash, await app.apiKeyOwnerOfHash(hash)] as const)));
      for (const s of streams) if (owners.get(s.keyHash)?.tenantId !== s.tenantId) s.stream.end(KEY_REVOKED);
    }

    /** Has the streams that missed a change catch up (see the top of this file). */
    async function checkJobs(): Promise<void> {
      const streams = [...open];
      const rows = await app.repos.jobs.progress([...new Set(streams.map((s) => s.jobId))]);
      const jobs = new Map(rows.map((row) => [row.id, row]));
      for (const s of streams) {
        const job = jobs.get(s.jobId);
        if (!job || (s.seen && s.stream.isBehind(s.seen))) s.stream.receive({ type: 'recheck' });
        s.seen = job && { status: job.status, epoch: job.epoch };
      }
    }

    const guarded = (what: string, check: () => Promise<void>) => () =>
      check().catch((err: unknown) => app.log.warn({ err }, `job event streams: could not check ${what}; trying again at the next ping`));
    const keysChecked = guarded('their API keys', checkKeys);
    const jobsChecked = guarded('their jobs', checkJobs);

    let ticking = false;
    const timer = setInterval(() => {
      if (ticking || open.size === 0) return;
      ticking = true;
      for (const s of open) s.stream.ping();
      void Promise.all([keysChecked(), jobsChecked(), slots.renew()]).finally(() => (ticking = false));
    }, opts.pingIntervalMs);

    // A revoked key, a deleted tenant, or deletes missed while Redis was away: the key cache was just emptied.
    app.deletions.listen((notice) => {
      if (open.size && (notice.kind === 'missed' || notice.deletion.tenant || notice.deletion.keysRevoked)) void keysChecked();
    });

    app.decorate('jobEvents', {
      hub,
      maxStreamsPerKey: opts.maxStreamsPerKey,
      claim: (keyHash: string) => slots.claim(keyHash),
      track(tracked: TrackedStream) {
        const followed: Followed = { ...tracked };
        open.add(followed);
        tracked.stream.onClose(() => open.delete(followed));
      },
    });
    app.addHook('preClose', async () => {
      clearInterval(timer);
      for (const { stream } of [...open]) stream.close();
    });
    app.addHook('onClose', async () => {
      hub.close();
      await subscriber.quit().catch(() => subscriber.disconnect());
    });
  },
  { name: 'job-events', dependencies: ['queue', 'prisma', 'auth', 'deletions'] },
);
