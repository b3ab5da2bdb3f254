// A dataset row written by binary COPY: the packed arrays go to Postgres as the bytes they are, in pieces viewed
// straight from the arrays, never assembled into one query message. (An INSERT through pg copies every parameter
// into its Bind message, growing a buffer to the arrays' size and more; through Prisma they are also base64-encoded
// and decoded again.) A COPY of one row is one statement: the row is stored whole or not at all.
// https://www.postgresql.org/docs/current/sql-copy.html, "Binary Format".
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { COPY_SIGNATURE as SIGNATURE, withCopyClient } from './pg-copy.js';

export interface DatasetRow {
  id: string;
  tenantId: string;
  name: string;
  rowCount: number;
  features: string[];
  targets: string[];
  classes: string[] | null;
  stats: unknown;
  sequenceLength: number | null;
  targetSteps: number | null;
  columns: unknown;
  skippedRows: number;
  inputs: Uint8Array;
  outputs: Uint8Array;
  /** Written here rather than left to the column default, so the caller knows the row without reading it back. */
  createdAt: Date;
}

const COLUMNS = [
  'id', 'tenantId', 'name', 'rowCount', 'features', 'targets', 'classes', 'stats', 'sequenceLength', 'targetSteps', 'columns', 'skippedRows',
  'inputs', 'outputs', 'createdAt',
];
const PIECE = 64 * 1024;
const JSONB_VERSION = 1;

const int16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}
/** A field: its length, then its bytes; NULL is length -1 and no bytes. */
const field = (bytes: Buffer | null): Buffer[] => (bytes === null ? [int32(-1)] : [int32(bytes.length), bytes]);
const uuid = (id: string) => Buffer.from(id.replace(/-/g, ''), 'hex');
const text = (s: string) => Buffer.from(s, 'utf8');
const int4 = (n: number | null) => (n === null ? null : int32(n));
/** timestamp: microseconds since 2000-01-01 UTC (Prisma keeps DateTime columns in UTC). */
function timestamp(date: Date): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(date.getTime() - Date.UTC(2000, 0, 1)) * 1000n);
  return b;
}
const jsonb = (value: unknown) => (value === null ? null : Buffer.concat([Buffer.from([JSONB_VERSION]), Buffer.from(JSON.stringify(value), 'utf8')]));

function* bytea(bytes: Uint8Array): Generator<Buffer> {
  yield int32(bytes.byteLength);
  for (let at = 0; at < bytes.byteLength; at += PIECE) {
    yield Buffer.from(bytes.buffer, bytes.byteOffset + at, Math.min(PIECE, bytes.byteLength - at));
  }
}

function* copyData(row: DatasetRow): Generator<Buffer> {
  yield Buffer.concat([SIGNATURE, int32(0), int32(0), int16(COLUMNS.length)]); // no flags, no header extension
  yield* field(uuid(row.id));
  yield* field(uuid(row.tenantId));
  yield* field(text(row.name));
  yield* field(int4(row.rowCount));
  yield* field(jsonb(row.features));
  yield* field(jsonb(row.targets));
  yield* field(jsonb(row.classes));
  yield* field(jsonb(row.stats));
  yield* field(int4(row.sequenceLength));
  yield* field(int4(row.targetSteps));
  yield* field(jsonb(row.columns));
  yield* field(int4(row.skippedRows));
  yield* bytea(row.inputs);
  yield* bytea(row.outputs);
  yield* field(timestamp(row.createdAt));
  yield int16(-1); // end of data
}

/**
 * With `before`, the COPY runs in a transaction after it (on the same connection): what `before` checks under a
 * lock it takes (the tenant's quota) still holds when the row is stored.
 */
export async function insertDataset(pool: pg.Pool, row: DatasetRow, before?: (client: pg.PoolClient) => Promise<void>): Promise<void> {
  const columns = COLUMNS.map((c) => pg.escapeIdentifier(c)).join(', ');
  const copy = (client: pg.PoolClient) => pipeline(Readable.from(copyData(row)), client.query(copyFrom(`COPY "Dataset" (${columns}) FROM STDIN (FORMAT binary)`)));
  await withCopyClient(pool, async (client) => {
    if (!before) return copy(client);
    await client.query('BEGIN');
    try {
      await before(client);
      await copy(client);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  });
}
