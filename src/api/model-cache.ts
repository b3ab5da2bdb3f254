// Recently used models stay deserialized in memory, so a burst of predictions does not re-read and re-decode
// weights from Postgres each time. A Map iterates in insertion order, which makes it a compact LRU.
import { RowEncoder } from '../data/encode-inputs.js';
import { storedEncoding } from '../data/encoding.js';
import { deserializeModel, type Network } from '../engine/index.js';
import type { StoredModel } from '../db/models.js';

export interface LoadedModel {
  model: StoredModel;
  network: Network;
  /** The model's stored preprocessing, ready to turn predict rows into inputs. */
  encoder: RowEncoder;
}

/** A model's encoder: rows of a fitted model may also carry its dataset's targets and ignored columns. */
export function encoderOf(model: StoredModel): RowEncoder {
  const encoding = storedEncoding(model.preprocessing, model.features)!;
  const fitted = model.preprocessing.columns !== undefined;
  return new RowEncoder(encoding, fitted ? [...model.targets, ...(model.preprocessing.ignored ?? [])] : null);
}

export class ModelCache {
  private readonly entries = new Map<string, LoadedModel>();
  /** Bumped by every drop: a load that began before one is answered but not kept (it may have read what was dropped). */
  private drops = 0;

  constructor(private readonly capacity: number) {}

  /**
   * The cached model, without waiting for anything: a prediction on a cached model never yields to the event loop
   * before its forward pass. Keyed by tenant as well, so a cached model is never served across tenants.
   */
  peek(tenantId: string, id: string): LoadedModel | undefined {
    const key = `${tenantId}:${id}`;
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  async get(tenantId: string, id: string, load: () => Promise<StoredModel | null>): Promise<LoadedModel | null> {
    const hit = this.peek(tenantId, id);
    if (hit) return hit;
    const key = `${tenantId}:${id}`;
    const drops = this.drops;
    const model = await load();
    if (!model) return null;
    const loaded = { model, network: deserializeModel(model.weights), encoder: encoderOf(model) };
    if (this.capacity > 0 && drops === this.drops) {
      this.entries.set(key, loaded);
      if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    }
    return loaded;
  }

  /** Forgets models that were deleted or changed (src/queue/deletion-channel.ts); the next request reads Postgres. */
  drop(tenantId: string, ids: readonly string[]): void {
    this.drops++;
    for (const id of ids) this.entries.delete(`${tenantId}:${id}`);
  }

  /** Forgets every model of a tenant, or with no tenant every model (deletes may have been missed). */
  dropAll(tenantId?: string): void {
    this.drops++;
    if (tenantId === undefined) return this.entries.clear();
    for (const key of [...this.entries.keys()]) if (key.startsWith(`${tenantId}:`)) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
