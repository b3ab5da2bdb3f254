// Recently used models stay deserialized in memory, so a burst of predictions does not re-read and re-decode
// weights from Postgres each time. A Map iterates in insertion order, which makes it a compact LRU. The cache is
// bounded in bytes, not models: one model of 4,096-unit layers weighs as much as thousands of Iris models.
import { RowEncoder } from '../data/encode-inputs.js';
import { storedEncoding } from '../data/encoding.js';
import { deserializeModel, estimatePredictBytes, type Network } from '../engine/index.js';
import type { StoredModel } from '../db/models.js';
import { EVALUATION_CHUNK } from '../evaluation/judge.js';

/**
 * Rows per forward pass of a prediction (src/api/predict.ts). A layer's buffers grow to the largest batch it has seen
 * and are kept with the cached model: one 10,000-row request to a model of 4,096-unit layers took the API from 209 MB
 * to 1.65 GB, and kept it there.
 */
export const PREDICT_CHUNK = 256;

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

/**
 * What a cached model holds: the network's weights and gradient buffers, its layers' buffers for the largest chunk
 * it runs (PREDICT_CHUNK rows per prediction, EVALUATION_CHUNK when it is evaluated; grown once, then kept), and the
 * stored weights' base64 text (4/3 of the float32 bytes) of its StoredModel.
 */
export function cachedModelBytes(network: Network): number {
  const parameters = network.parameters().reduce((sum, p) => sum + p.length, 0);
  return estimatePredictBytes(network.spec, Math.max(PREDICT_CHUNK, EVALUATION_CHUNK)) + Math.ceil((parameters * 16) / 3);
}

export class ModelCache {
  private readonly entries = new Map<string, { loaded: LoadedModel; bytes: number }>();
  private held = 0;
  /** Bumped by every drop: a load that began before one is answered but not kept (it may have read what was dropped). */
  private drops = 0;

  /** capacityBytes: MODEL_CACHE_MB; a model larger than it is answered but never kept. */
  constructor(private readonly capacityBytes: number) {}

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
    return hit?.loaded;
  }

  async get(tenantId: string, id: string, load: () => Promise<StoredModel | null>): Promise<LoadedModel | null> {
    const hit = this.peek(tenantId, id);
    if (hit) return hit;
    const key = `${tenantId}:${id}`;
    const drops = this.drops;
    const model = await load();
    if (!model) return null;
    const loaded = { model, network: deserializeModel(model.weights), encoder: encoderOf(model) };
    const bytes = cachedModelBytes(loaded.network);
    if (bytes <= this.capacityBytes && drops === this.drops) {
      this.remove(key);
      this.entries.set(key, { loaded, bytes });
      this.held += bytes;
      // Least recently used first, until the new model fits.
      for (const oldest of this.entries.keys()) {
        if (this.held <= this.capacityBytes) break;
        this.remove(oldest);
      }
    }
    return loaded;
  }

  /** Forgets models that were deleted or changed (src/queue/deletion-channel.ts); the next request reads Postgres. */
  drop(tenantId: string, ids: readonly string[]): void {
    this.drops++;
    for (const id of ids) this.remove(`${tenantId}:${id}`);
  }

  /** Forgets every model of a tenant, or with no tenant every model (deletes may have been missed). */
  dropAll(tenantId?: string): void {
    this.drops++;
    for (const key of [...this.entries.keys()]) if (tenantId === undefined || key.startsWith(`${tenantId}:`)) this.remove(key);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Estimated bytes of the cached models, at most capacityBytes. */
  get bytes(): number {
    return this.held;
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.held -= entry.bytes;
  }
}
