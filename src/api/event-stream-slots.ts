// How many job event streams each API key has open, counted in Redis so the cap (EVENTS_MAX_STREAMS_PER_KEY) holds
// across API processes. A key's streams are a sorted set of members scored by when their lease runs out: a process
// renews its streams' leases at every ping and removes a stream's member when it closes, so the members of a
// process that died without closing its streams fall out once their lease runs out (LEASE_PINGS pings). Times are
// Redis's own (TIME), so processes' clocks never disagree about a lease. While Redis is unreachable each process
// counts its own streams against the same cap: a key then gets at most the cap per process, rather than no cap.
import { randomUUID } from 'node:crypto';
import type { RedisConnection } from '../queue/connection.js';

/** A stream's lease lasts this many ping intervals. */
const LEASE_PINGS = 3;

const NOW_MS = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** KEYS[1] the key's set; ARGV: cap, lease ms, member. 1 when the member got a slot, 0 when the key has none left. */
const CLAIM_LUA = `${NOW_MS}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

/** KEYS[1] the key's set; ARGV: lease ms, members (those still in the set) to renew. */
const RENEW_LUA = `${NOW_MS}
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 0`;

declare module 'ioredis' {
  interface RedisCommander {
    eventStreamClaim(key: string, cap: number, leaseMs: number, member: string): Promise<number>;
    eventStreamRenew(key: string, leaseMs: number, ...members: string[]): Promise<number>;
  }
}

export class EventStreamSlots {
  private readonly leaseMs: number;
  /** Per key hash: this process's streams' members, held in Redis or (claimed while Redis was away) only here. */
  private readonly held = new Map<string, Set<string>>();
  private readonly process = randomUUID();
  private next = 0;

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly cap: number,
    pingIntervalMs: number,
    private readonly log: { warn(obj: object, msg: string): void },
  ) {
    this.leaseMs = LEASE_PINGS * pingIntervalMs;
    if (!redis.eventStreamClaim) {
      redis.defineCommand('eventStreamClaim', { numberOfKeys: 1, lua: CLAIM_LUA });
      redis.defineCommand('eventStreamRenew', { numberOfKeys: 1, lua: RENEW_LUA });
    }
  }

  /** A slot for one more stream of the key: the function that gives it back, or null when the key has none left. */
  async claim(keyHash: string): Promise<(() => void) | null> {
    const member = `${this.process}:${this.next++}`;
    const claimed = await this.redis.eventStreamClaim(this.key(keyHash), this.cap, this.leaseMs, member).then(
      (reply) => reply === 1,
      (err: unknown) => {
        this.log.warn({ err }, "event stream slots: Redis unavailable; counting this process's streams only");
        return (this.held.get(keyHash)?.size ?? 0) < this.cap;
      },
    );
    if (!claimed) return null;
    let members = this.held.get(keyHash);
    if (!members) this.held.set(keyHash, (members = new Set()));
    members.add(member);
    return () => this.release(keyHash, member);
  }

  /** Renews the leases of every stream this process holds: one Redis call per key. */
  async renew(): Promise<void> {
    await Promise.all(
      [...this.held].map(([keyHash, members]) =>
        this.redis.eventStreamRenew(this.key(keyHash), this.leaseMs, ...members).catch(() => undefined),
      ),
    );
  }

  private release(keyHash: string, member: string): void {
    const members = this.held.get(keyHash);
    if (!members?.delete(member)) return;
    if (members.size === 0) this.held.delete(keyHash);
    this.redis.zrem(this.key(keyHash), member).catch(() => undefined);
  }

  private key(keyHash: string): string {
    return `${this.prefix}:event-streams:${keyHash}`;
  }
}
