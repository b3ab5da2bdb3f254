// The rate limit's counts (src/api/plugins/security.ts), kept in Redis so every API process shares them, without a
// Redis round trip per request. A process leases positions in the window's count (INCRBY n) and hands them out
// locally: a request is allowed when its position is within the limit, so the limit is never exceeded, whatever
// the number of processes. Requests arriving in the same event-loop turn share one lease; a busy key also leases
// ahead, about LEASE_AHEAD_MS of its recent traffic and at most LEASE_SHARE of the limit. Positions leased ahead
// and never used count as used: with N processes, a client may be refused up to N x LEASE_SHARE of the limit early.
// A quiet key leases nothing ahead, so it is counted exactly. (One Redis call per request was a third of a
// prediction's CPU; auto-pipelining those calls still left a fifth.) While Redis is unreachable each process counts
// on its own, in windows of its own: a client then gets at most the limit per process, rather than no limit at all
// or no service at all.
import type { RedisConnection } from '../queue/connection.js';

/** Ahead of demand, a busy key leases what it used in this long. */
const LEASE_AHEAD_MS = 100;
/** ...but never more than this share of its limit. */
const LEASE_SHARE = 0.01;
/** Keys tracked per process; the oldest go first (their unused positions are simply lost). */
const MAX_KEYS = 10_000;

/** INCRBY the count, starting the window on a new key; answers the count after and the window's remaining ms. */
const LEASE_LUA = `
local current = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {current, ttl}`;

export type Result = { current: number; ttl: number };
type Callback = (result: Result) => void;

interface Lease {
  /** Next position to hand out, and the last this process holds, in the window ending at windowEnds. */
  next: number;
  last: number;
  windowEnds: number;
  waiting: Callback[];
  fetching: boolean;
  /** Requests since the last lease was asked for, and when: the key's recent rate. */
  served: number;
  askedAt: number;
  /** The count of this process alone while Redis is unreachable, in its own window ending at localWindowEnds. */
  localCount: number;
  localWindowEnds: number;
}

declare module 'ioredis' {
  interface RedisCommander {
    rateLimitLease(key: string, count: number, windowMs: number, callback: (err: Error | null, reply: [number, number]) => void): void;
  }
}

/** Counts rate-limit keys in `redis` under `prefix`; incr never fails (see above). */
export class LeasedRedisStore {
  private readonly leases = new Map<string, Lease>();

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
  ) {
    if (!redis.rateLimitLease) redis.defineCommand('rateLimitLease', { numberOfKeys: 1, lua: LEASE_LUA });
  }

  /** Calls `done` with the request's position in the key's window (over `max`: refused) and the window's remaining ms. */
  incr(key: string, windowMs: number, max: number, done: Callback): void {
    let lease = this.leases.get(key);
    if (!lease) {
      lease = { next: 1, last: 0, windowEnds: 0, waiting: [], fetching: false, served: 0, askedAt: 0, localCount: 0, localWindowEnds: 0 };
      this.leases.set(key, lease);
      if (this.leases.size > MAX_KEYS) this.leases.delete(this.leases.keys().next().value!);
    }
    lease.served++;
    lease.waiting.push(done);
    this.serve(key, lease, windowMs, max);
  }

  /** Hands out held positions to the waiting requests; asks Redis for more (once per turn) when they run out. */
  private serve(key: string, lease: Lease, windowMs: number, max: number): void {
    const now = Date.now();
    while (lease.waiting.length && lease.next <= lease.last && lease.windowEnds > now) {
      lease.waiting.shift()!({ current: lease.next++, ttl: lease.windowEnds - now });
    }
    if (!lease.waiting.length || lease.fetching) return;
    lease.fetching = true;
    setImmediate(() => this.fetch(key, lease, windowMs, max));
  }

  private fetch(key: string, lease: Lease, windowMs: number, max: number): void {
    const askedAt = Date.now();
    const rate = lease.served / Math.max(1, askedAt - lease.askedAt);
    const ahead = Math.min(Math.floor(max * LEASE_SHARE), Math.floor(rate * LEASE_AHEAD_MS));
    const count = lease.waiting.length + ahead;
    lease.served = 0;
    lease.askedAt = askedAt;
    this.redis.rateLimitLease(this.prefix + key, count, windowMs, (err, reply) => {
      lease.fetching = false;
      if (err) {
        const now = Date.now();
        if (lease.localWindowEnds <= now) {
          lease.localCount = 0;
          lease.localWindowEnds = now + windowMs;
        }
        for (const done of lease.waiting.splice(0)) done({ current: ++lease.localCount, ttl: lease.localWindowEnds - now });
        return;
      }
      const [current, ttl] = reply;
      lease.next = current - count + 1;
      lease.last = current;
      // Measured from before the call, so this process never counts in a window Redis has already ended.
      lease.windowEnds = askedAt + ttl;
      this.serve(key, lease, windowMs, max);
    });
  }
}
