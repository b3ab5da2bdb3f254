// Decoded datasets, kept by the worker process between runs. A dataset never changes once stored (nothing updates
// its row), so every run on it can share one read from Postgres and one copy in memory: concurrent starts wait for
// the same read, later ones find it here. The arrays live in shared memory (see DatasetRepository.getTrainingData),
// so handing them to a training thread copies nothing. Bounded by bytes, least recently used out first; an evicted
// dataset stays alive only as long as a run still trains on it.
import type { TrainingData, TrainingDataReader } from '../db/datasets.js';

/** Where a run's dataset came from: a read of its own, another run's read still in flight, or the cache. */
export type DatasetSource = 'postgres' | 'shared' | 'cache';

interface Entry {
  data: TrainingData;
  bytes: number;
}

export class DatasetCache implements TrainingDataReader {
  /** A Map iterates in insertion order: re-inserting on every hit makes the first key the least recently used. */
  private readonly entries = new Map<string, Entry>();
  private readonly reading = new Map<string, Promise<TrainingData | null>>();
  private bytes = 0;
  /** Bumped by every drop: a read that began before one is handed to its waiters but not kept. */
  private drops = 0;

  constructor(
    private readonly source: TrainingDataReader,
    private readonly maxBytes: number,
    private readonly onRead: (source: DatasetSource) => void,
  ) {}

  /** Keyed by tenant as well, like the model cache, so a dataset is never handed across tenants. */
  getTrainingData(tenantId: string, id: string): Promise<TrainingData | null> {
    const key = `${tenantId}:${id}`;
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      this.onRead('cache');
      return Promise.resolve(hit.data);
    }
    const pending = this.reading.get(key);
    if (pending) {
      this.onRead('shared');
      return pending;
    }
    this.onRead('postgres');
    const drops = this.drops;
    // A failed read is not remembered: every waiter sees the error and the next start reads again.
    const read = this.source
      .getTrainingData(tenantId, id)
      .then((data) => {
        if (data && drops === this.drops) this.keep(key, data);
        return data;
      })
      .finally(() => {
        if (this.reading.get(key) === read) this.reading.delete(key);
      });
    this.reading.set(key, read);
    return read;
  }

  /** Forgets deleted datasets (src/queue/deletion-channel.ts): a later start reads Postgres, which no longer has them. */
  drop(tenantId: string, ids: readonly string[]): void {
    const keys = new Set(ids.map((id) => `${tenantId}:${id}`));
    this.forget((key) => keys.has(key));
  }

  /** Forgets every dataset of a tenant, or with no tenant every dataset (deletes may have been missed). */
  dropAll(tenantId?: string): void {
    this.forget((key) => tenantId === undefined || key.startsWith(`${tenantId}:`));
  }

  /** Bytes of the datasets held now (at most the bound). */
  get size(): number {
    return this.bytes;
  }

  private forget(matches: (key: string) => boolean): void {
    this.drops++;
    for (const [key, entry] of [...this.entries]) {
      if (!matches(key)) continue;
      this.entries.delete(key);
      this.bytes -= entry.bytes;
    }
    for (const key of [...this.reading.keys()]) if (matches(key)) this.reading.delete(key);
  }

  private keep(key: string, data: TrainingData): void {
    const bytes = data.inputs.byteLength + data.outputs.byteLength;
    if (bytes > this.maxBytes) return;
    this.entries.set(key, { data, bytes });
    this.bytes += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= entry.bytes;
    }
  }
}
