// Live job events over Redis pub/sub, one channel per job. Worker processes publish once Postgres has what an event
// says; each API process keeps one subscriber connection and subscribes to a job's channel while at least one of
// its clients follows that job. Nothing is kept in Redis: a client that reconnects gets the epochs it missed from
// Postgres (Last-Event-ID), so a message lost while Redis was away costs latency, not data.
import type { RedisConnection } from './connection.js';
import { parseJobEventMessage, type JobEventMessage } from '../contracts/job-events.js';
import { cancelChannel } from './cancel-channel.js';

const channelPrefix = (prefix: string) => `${prefix}:job-events:`;
export const jobEventsChannel = (prefix: string, jobId: string): string => `${channelPrefix(prefix)}${jobId}`;

export async function publishJobEvent(redis: RedisConnection, prefix: string, jobId: string, message: JobEventMessage): Promise<void> {
  await redis.publish(jobEventsChannel(prefix, jobId), JSON.stringify(message));
}

/** A job event, or `recheck`: the job changed in Postgres in a way no worker announces (the API cancelled it). */
export type JobEventListener = (message: JobEventMessage | { type: 'recheck' }) => void;

/** Fans the messages of one shared subscriber connection out to the streams following each job. */
export class JobEventHub {
  private readonly listeners = new Map<string, Set<JobEventListener>>();
  /** Per followed job: resolves once Redis has confirmed the subscription. */
  private readonly subscribed = new Map<string, Promise<unknown>>();
  private readonly onMessage = (channel: string, text: string) => {
    if (channel === this.cancelChannel) {
      for (const listener of this.listeners.get(text) ?? []) listener({ type: 'recheck' });
      return;
    }
    if (!channel.startsWith(this.channelPrefix)) return;
    const message = parseJobEventMessage(text);
    const listeners = this.listeners.get(channel.slice(this.channelPrefix.length));
    if (message && listeners) for (const listener of listeners) listener(message);
  };
  private readonly channelPrefix: string;
  private readonly cancelChannel: string;

  /** `subscriber` must be a connection of its own: a subscribed ioredis client runs no other command. */
  constructor(
    private readonly subscriber: RedisConnection,
    private readonly prefix: string,
  ) {
    this.channelPrefix = channelPrefix(prefix);
    this.cancelChannel = cancelChannel(prefix);
    subscriber.on('message', this.onMessage);
  }

  /**
   * Also listens to the cancel broadcast: a job cancelled while no worker holds it would otherwise end on its
   * stream only at the next periodic check.
   */
  async start(): Promise<void> {
    await this.subscriber.subscribe(this.cancelChannel);
  }

  /**
   * Calls `listener` with every message of the job from the moment the returned promise resolves (Redis confirmed
   * the subscription) until the returned function is called. Rejects when Redis cannot be reached.
   */
  async follow(jobId: string, listener: JobEventListener): Promise<() => void> {
    let listeners = this.listeners.get(jobId);
    if (!listeners) {
      listeners = new Set();
      this.listeners.set(jobId, listeners);
      this.subscribed.set(jobId, this.subscriber.subscribe(jobEventsChannel(this.prefix, jobId)));
    }
    listeners.add(listener);
    const stop = () => this.unfollow(jobId, listener);
    try {
      await this.subscribed.get(jobId);
    } catch (err) {
      stop();
      throw err;
    }
    return stop;
  }

  close(): void {
    this.subscriber.off('message', this.onMessage);
    this.listeners.clear();
    this.subscribed.clear();
  }

  private unfollow(jobId: string, listener: JobEventListener): void {
    const listeners = this.listeners.get(jobId);
    if (!listeners?.delete(listener) || listeners.size > 0) return;
    this.listeners.delete(jobId);
    this.subscribed.delete(jobId);
    // Commands run in order on the connection: a later follow() of the job subscribes again after this.
    this.subscriber.unsubscribe(jobEventsChannel(this.prefix, jobId)).catch(() => undefined);
  }
}
