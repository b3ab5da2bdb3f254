// CSV uploads are encoded while the body streams in: a body of several MB arrives in many pieces (a multi-byte
// character cut between two of them) and is stored exactly as an independent reference computes it; errors deep in
// the body still name the row and column; the body limit and DATASET_MAX_ROWS answer 413 without the server reading
// the rest of an endless body; a failed or abandoned upload stores nothing.
import http from 'node:http';
import { Readable } from 'node:stream';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { auth } from '../helpers/fixtures.js';

const MiB = 1024 * 1024;
const BODY_LIMIT = 8 * MiB;
const MAX_ROWS = 5000;
const FEATURES = 150;
const LABELS = ['chat-é', '猫', 'dog', 'ünïcode'];

interface Table {
  columns: string[];
  /** Feature cells as the text sent, then the label. */
  rows: string[][];
}

/** FEATURES columns of varied decimals (negative, long, exponent forms) and a class label with multi-byte text. */
function wideTable(rowCount: number): Table {
  const columns = [...Array.from({ length: FEATURES }, (_, c) => `f${c}`), 'label'];
  const rows = Array.from({ length: rowCount }, (_, r) => [
    ...Array.from({ length: FEATURES }, (_, c) => ((r * 31 + c) % 97 === 0 ? '1.5e-7' : String(((r * 31 + c * 7) % 2001 - 1000) / 37))),
    LABELS[r % LABELS.length],
  ]);
  return { columns, rows };
}

const csvText = ({ columns, rows }: Table) => `${columns.join(',')}\n${rows.map((r) => r.join(',')).join('\n')}\n`;

/** Pieces of `bytes` bytes each: the server gets the body in many reads, some cutting a character in two. */
function pieces(body: Buffer, bytes: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < body.length; at += bytes) out.push(body.subarray(at, at + bytes));
  return out;
}

interface Streamed {
  status: number;
  body: { id?: string; error?: { code: string; message: string; details?: Record<string, unknown> } };
  /** Bytes handed to the socket when the response arrived. */
  sentAtResponse: number;
}

const firstMismatch = (a: Float32Array, b: Float32Array) => (a.length !== b.length ? -2 : a.findIndex((v, i) => !Object.is(v, b[i])));

describe('streamed CSV uploads', () => {
  const service = useTestService({ env: { BODY_LIMIT_BYTES: String(BODY_LIMIT), DATASET_MAX_ROWS: String(MAX_ROWS) } });
  let key: string;
  let tenantId: string;
  let port: number;

  /** POSTs a chunked body (no Content-Length) from `source`, stopping it once the response is in. */
  const stream = (query: string, source: Iterable<Buffer>, headers: Record<string, string> = {}): Promise<Streamed> =>
    new Promise((resolve, reject) => {
      let sent = 0;
      let answered = false;
      const body = Readable.from(source, { objectMode: false });
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: `/v1/datasets?${query}`,
          agent: false,
          headers: { ...auth(key), 'content-type': 'text/csv', 'transfer-encoding': 'chunked', ...headers },
        },
        (res) => {
          answered = true;
          const sentAtResponse = sent;
          body.unpipe(req);
          body.destroy();
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')), sentAtResponse });
            req.destroy();
          });
        },
      );
      // Writing into a connection the server has closed after answering fails; the answer is what counts.
      req.on('error', (err) => answered || reject(err));
      body.on('data', (chunk: Buffer) => (sent += chunk.length));
      body.pipe(req);
    });

  const datasetCount = () => service.app.db.dataset.count({ where: { tenantId } });

  beforeAll(async () => {
    ({ apiKey: key, id: tenantId } = await createTenant(service.app));
    await service.app.listen({ port: 0, host: '127.0.0.1' });
    port = (service.app.server.address() as { port: number }).port;
  });

  it('stores a CSV of several MB, sent in small pieces, exactly as an independent reference encodes it', async () => {
    const table = wideTable(2000);
    const body = Buffer.from(csvText(table));
    expect(body.length).toBeGreaterThan(4 * MiB);
    const parts = pieces(body, 1000);
    // Some boundaries fall inside a multi-byte character (a UTF-8 continuation byte starts the next piece).
    expect(parts.some((p) => (p[0] & 0xc0) === 0x80)).toBe(true);

    const res = await stream('name=wide&target=label', parts);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const stored = await service.app.repos.datasets.getTrainingData(tenantId, res.body.id!);
    expect(stored).not.toBeNull();

    const inputs = Float32Array.from(table.rows.flatMap((r) => r.slice(0, FEATURES).map(Number)));
    const classes = [...new Set(LABELS)].sort();
    const outputs = new Float32Array(table.rows.length * classes.length);
    table.rows.forEach((r, i) => (outputs[i * classes.length + classes.indexOf(r[FEATURES])] = 1));
    expect(stored!.rows).toBe(2000);
    expect(stored!.classes).toEqual(classes);
    expect(firstMismatch(stored!.inputs, inputs)).toBe(-1);
    expect(firstMismatch(stored!.outputs, outputs)).toBe(-1);

    // The statistics gathered as rows arrived match a two-pass computation over the stored values.
    const detail = await request(service.app.server).get(`/v1/datasets/${res.body.id}`).set(auth(key));
    for (const f of [0, 1, 77, FEATURES - 1]) {
      const column = Array.from({ length: 2000 }, (_, r) => inputs[r * FEATURES + f]);
      const mean = column.reduce((a, b) => a + b, 0) / column.length;
      const std = Math.sqrt(column.reduce((a, b) => a + (b - mean) ** 2, 0) / column.length);
      const stats = detail.body.stats[`f${f}`];
      expect(stats).toMatchObject({ kind: 'numeric', min: Math.min(...column), max: Math.max(...column) });
      expect(Math.abs(stats.mean - mean)).toBeLessThan(1e-9 * Math.max(1, Math.abs(mean)));
      expect(Math.abs(stats.std - std)).toBeLessThan(1e-9 * Math.max(1, std));
    }
    expect(detail.body.stats.label).toEqual({ kind: 'categorical', counts: Object.fromEntries(LABELS.map((l) => [l, 500])) });
  });

  it('names the row and column of errors deep in a streamed body, and stores nothing', async () => {
    const before = await datasetCount();
    const withRow = (row: number, edit: (cells: string[]) => string[]) => {
      const table = wideTable(2600);
      table.rows[row - 1] = edit(table.rows[row - 1]);
      return pieces(Buffer.from(csvText(table)), 64 * 1024);
    };

    const bad = await stream('name=bad&target=label', withRow(2500, (cells) => cells.map((c, i) => (i === 42 ? 'oops' : c))));
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'ERR_INVALID_DATASET', details: { row: 2500, column: 'f42', field: 'rows[2499][42]' } });
    expect(bad.body.error!.message).toContain('row 2500, column "f42"');

    const ragged = await stream('name=bad&target=label', withRow(2599, (cells) => cells.slice(1)));
    expect(ragged.status).toBe(400);
    expect(ragged.body.error!.message).toContain(`row 2599 has ${FEATURES} cells, expected ${FEATURES + 1}`);

    // Deep in the body: an infinite number is never a label, whatever the rest of the column holds.
    const infinite = await stream('name=bad&target=label', withRow(2600, (cells) => cells.map((c, i) => (i === 7 ? 'Infinity' : c))));
    expect(infinite.status).toBe(400);
    expect(infinite.body.error).toMatchObject({ details: { row: 2600, column: 'f7' } });
    expect(infinite.body.error!.message).toContain('expected a finite number');

    const text = Buffer.from(csvText(wideTable(2600)));
    expect(text.length).toBeLessThan(BODY_LIMIT); // within the limit: the answer must reach the client whatever the error
    const invalidUtf8 = Buffer.concat([text.subarray(0, 3 * MiB), Buffer.from([0xc3, 0x28]), text.subarray(3 * MiB)]);
    const notUtf8 = await stream('name=bad&target=label', pieces(invalidUtf8, 64 * 1024));
    expect(notUtf8.status).toBe(400);
    expect(notUtf8.body.error).toMatchObject({ code: 'ERR_BAD_REQUEST', message: 'request body is not valid UTF-8' });

    expect(await datasetCount()).toBe(before);
  });

  /** 8 KB rows of a valid CSV without end (bounded at 256 MiB, far more than any test reads). */
  function* endless(row: string): Generator<Buffer> {
    const header = Buffer.from(`${Array.from({ length: row.split(',').length }, (_, i) => `c${i}`).join(',')}\n`);
    yield header;
    const block = Buffer.from(`${row}\n`.repeat(Math.ceil(8192 / (row.length + 1))));
    for (let sent = 0; sent < 256 * MiB; sent += block.length) yield block;
  }

  it('answers 413 at BODY_LIMIT_BYTES on a streamed body, without reading the rest', async () => {
    const before = await datasetCount();
    // Wide rows: the body limit comes long before DATASET_MAX_ROWS.
    const res = await stream('name=big&target=c0', endless(Array.from({ length: 400 }, (_, i) => String(i * 1.25)).join(',')));
    expect(res.status).toBe(413);
    expect(res.body.error).toMatchObject({ code: 'ERR_BODY_TOO_LARGE', message: expect.stringContaining(`${BODY_LIMIT} bytes`) });
    expect(res.sentAtResponse).toBeLessThan(64 * MiB);
    expect(await datasetCount()).toBe(before);
  });

  it('answers 413 as soon as a streamed CSV has more than DATASET_MAX_ROWS rows', async () => {
    const before = await datasetCount();
    const res = await stream('name=long&target=c0', endless('1,2'));
    expect(res.status).toBe(413);
    expect(res.body.error).toMatchObject({ code: 'ERR_DATASET_TOO_LARGE', message: expect.stringContaining('DATASET_MAX_ROWS') });
    expect(res.sentAtResponse).toBeLessThan(64 * MiB);
    expect(await datasetCount()).toBe(before);
  });

  it('stores nothing for a client that goes away mid-body, and goes on serving', async () => {
    const before = await datasetCount();
    await new Promise<void>((resolve) => {
      const req = http.request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/datasets?name=abandoned&target=label',
        agent: false,
        headers: { ...auth(key), 'content-type': 'text/csv', 'transfer-encoding': 'chunked' },
      });
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      req.write(Buffer.from(csvText(wideTable(1000))).subarray(0, MiB), () => req.destroy());
    });
    const after = await request(service.app.server)
      .post('/v1/datasets')
      .query({ name: 'after', target: 'label' })
      .set(auth(key))
      .set('content-type', 'text/csv')
      .send(csvText(wideTable(10)));
    expect(after.status).toBe(201);
    expect(await datasetCount()).toBe(before + 1);
    expect(await service.app.db.dataset.count({ where: { tenantId, name: 'abandoned' } })).toBe(0);
  });

  it('an Idempotency-Key retried with a different CSV body (same query) answers 422', async () => {
    const send = (body: string) =>
      request(service.app.server)
        .post('/v1/datasets')
        .query({ name: 'idem', target: 'label' })
        .set(auth(key))
        .set('idempotency-key', 'stream-1')
        .set('content-type', 'text/csv')
        .send(body);
    const first = await send(csvText(wideTable(20)));
    expect(first.status).toBe(201);
    const replay = await send(csvText(wideTable(20)));
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    const other = await send(csvText(wideTable(21)));
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('ERR_IDEMPOTENCY_MISMATCH');
  });
});
