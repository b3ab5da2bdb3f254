// Uploads as people have them: a CSV compressed with gzip (or deflate) is stored exactly like the plain one, a gzip
// bomb that inflates past BODY_LIMIT_BYTES answers 413 while the API goes on serving, a corrupt stream is a 400 and
// an encoding the API does not speak a 415 naming it; semicolon-, tab- and pipe-separated files, detected on their
// header line or named with ?delimiter=, are stored like their comma-separated twins. Real tables: Seattle's weather
// (CSV), US unemployment by county (a real TSV), Iris.
import { readFileSync } from 'node:fs';
import { gzipSync, deflateSync, brotliCompressSync } from 'node:zlib';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { auth, IRIS_COLUMNS, irisSplit } from '../helpers/fixtures.js';
import { ADMIN_KEY } from '../helpers/env.js';
import { httpRequest } from '../helpers/http.js';
import { seattleWeatherCsv } from '../helpers/tables.js';

const MiB = 1024 * 1024;
const BODY_LIMIT = 2 * MiB;
const unemploymentTsv = () => readFileSync(new URL('../../node_modules/vega-datasets/data/unemployment.tsv', import.meta.url), 'utf8');

/** The same table with another delimiter (none of these tables quotes a cell or holds the new delimiter). */
const withDelimiter = (csv: string, from: string, to: string) => {
  expect(csv.includes(to)).toBe(false);
  return csv.split(from).join(to);
};

interface Upload {
  query: Record<string, string>;
  body: Buffer | string;
  contentType?: string;
  encoding?: string;
  idempotencyKey?: string;
}

describe('uploads as people have them: compressed bodies and other delimiters', () => {
  const service = useTestService({ env: { BODY_LIMIT_BYTES: String(BODY_LIMIT), DATASET_MAX_ROWS: String(2_000_000) } });
  let key: string;
  let tenantId: string;
  let port: number;

  const upload = ({ query, body, contentType = 'text/csv', encoding, idempotencyKey }: Upload) => {
    let req = request(service.app.server).post('/v1/datasets').query(query).set(auth(key)).set('content-type', contentType);
    if (encoding) req = req.set('content-encoding', encoding);
    if (idempotencyKey) req = req.set('idempotency-key', idempotencyKey);
    return req.send(Buffer.isBuffer(body) ? body : Buffer.from(body));
  };

  /** What was stored: the encoded arrays and the dataset view, without what differs between two uploads (id, name, time). */
  const stored = async (id: string) => {
    const data = await service.app.repos.datasets.getTrainingData(tenantId, id);
    expect(data).not.toBeNull();
    const detail = await request(service.app.server).get(`/v1/datasets/${id}`).set(auth(key));
    expect(detail.status).toBe(200);
    const { id: _id, name: _name, createdAt: _createdAt, ...view } = detail.body;
    return { inputs: Array.from(data!.inputs), outputs: Array.from(data!.outputs), view };
  };

  /** Uploads both and expects the second to be stored exactly as the first. */
  const expectSameDataset = async (reference: Upload, other: Upload) => {
    const [a, b] = [await upload(reference), await upload(other)];
    expect(a.status, JSON.stringify(a.body)).toBe(201);
    expect(b.status, JSON.stringify(b.body)).toBe(201);
    const [storedA, storedB] = [await stored(a.body.id), await stored(b.body.id)];
    expect(storedB.inputs.length).toBeGreaterThan(0);
    expect(storedB).toEqual(storedA);
    return a.body;
  };

  /** A JSON body sent with Content-Encoding: gzip. */
  const postJson = (body: Buffer | string) =>
    httpRequest(port, { method: 'POST', path: '/v1/datasets', headers: { ...auth(key), 'content-type': 'application/json', 'content-encoding': 'gzip' }, body });

  const datasetCount = () => service.app.db.dataset.count({ where: { tenantId } });

  beforeAll(async () => {
    ({ apiKey: key, id: tenantId } = await createTenant(service.app));
    await service.app.listen({ port: 0, host: '127.0.0.1' });
    port = (service.app.server.address() as { port: number }).port;
  });

  const seattle = { name: 'seattle', target: 'weather', ignore: 'date' };

  describe('Content-Encoding', () => {
    it('stores a gzip CSV exactly like the plain upload, and a deflate one too', async () => {
      const csv = seattleWeatherCsv();
      const plain = await expectSameDataset({ query: seattle, body: csv }, { query: seattle, body: gzipSync(csv), encoding: 'gzip' });
      expect(plain).toMatchObject({ rows: 1461, targets: ['weather'], features: ['precipitation', 'temp_max', 'temp_min', 'wind'] });
      await expectSameDataset({ query: seattle, body: csv }, { query: seattle, body: deflateSync(csv), encoding: 'deflate' });
      // The header is case-insensitive and x-gzip is gzip (RFC 9110).
      await expectSameDataset({ query: seattle, body: csv }, { query: seattle, body: gzipSync(csv), encoding: 'X-GZIP' });
    });

    it('reads a gzip CSV sent chunked (no Content-Length)', async () => {
      const csv = seattleWeatherCsv();
      const compressed = gzipSync(csv);
      const res = await httpRequest(port, {
        method: 'POST',
        path: '/v1/datasets?name=chunked&target=weather&ignore=date',
        headers: { ...auth(key), 'content-type': 'text/csv', 'content-encoding': 'gzip', 'transfer-encoding': 'chunked' },
        body: compressed,
      });
      expect(res.status, res.body).toBe(201);
      const plain = await upload({ query: seattle, body: csv });
      expect(await stored(JSON.parse(res.body).id)).toEqual(await stored(plain.body.id));
    });

    it('inflates gzip JSON bodies too (a dataset as JSON)', async () => {
      const { train } = irisSplit();
      const json = JSON.stringify({ name: 'iris', columns: IRIS_COLUMNS, rows: train, target: 'species' });
      const a = await request(service.app.server).post('/v1/datasets').set(auth(key)).set('content-type', 'application/json').send(json);
      // supertest would serialize a Buffer sent as application/json; node:http sends the bytes.
      const b = await postJson(gzipSync(json));
      expect(a.status).toBe(201);
      expect(b.status, b.body).toBe(201);
      const dataset = JSON.parse(b.body);
      expect(dataset).toMatchObject({ rows: 120, classes: ['setosa', 'versicolor', 'virginica'] });
      expect(await stored(dataset.id)).toEqual(await stored(a.body.id));
    });

    it('answers 413 for a gzip bomb (50 MB of zeros in ~50 KB), CSV or JSON, stores nothing and goes on serving', async () => {
      const before = await datasetCount();
      const csvBomb = gzipSync(Buffer.concat([Buffer.from('x,y\n'), Buffer.alloc(50 * MiB, '0')]), { level: 9 });
      expect(csvBomb.length).toBeLessThan(64 * 1024);
      const csvAnswer = await httpRequest(port, {
        method: 'POST',
        path: '/v1/datasets?name=bomb&target=y',
        headers: { ...auth(key), 'content-type': 'text/csv', 'content-encoding': 'gzip' },
        body: csvBomb,
      });
      expect(csvAnswer.status, csvAnswer.body).toBe(413);
      expect(JSON.parse(csvAnswer.body).error).toMatchObject({ code: 'ERR_BODY_TOO_LARGE', message: expect.stringContaining(`${BODY_LIMIT} bytes`) });

      const jsonBomb = gzipSync(Buffer.concat([Buffer.from('{"name":"bomb","columns":["x","y"],"target":"y","rows":['), Buffer.alloc(60 * MiB, '[0,0],')]));
      expect(jsonBomb.length).toBeLessThan(128 * 1024);
      const jsonAnswer = await postJson(jsonBomb);
      expect(jsonAnswer.status, jsonAnswer.body).toBe(413);
      expect(JSON.parse(jsonAnswer.body).error.code).toBe('ERR_BODY_TOO_LARGE');

      expect((await request(service.app.server).get('/health')).status).toBe(200);
      const after = await upload({ query: seattle, body: gzipSync(seattleWeatherCsv()), encoding: 'gzip' });
      expect(after.status).toBe(201);
      expect(await datasetCount()).toBe(before + 1);
    });

    it('answers 400 for a body that is not valid gzip or is cut short, naming the header', async () => {
      const before = await datasetCount();
      const csv = seattleWeatherCsv();
      const notGzip = await upload({ query: seattle, body: csv, encoding: 'gzip' });
      expect(notGzip.status).toBe(400);
      expect(notGzip.body.error).toMatchObject({ code: 'ERR_BAD_REQUEST', details: { field: 'headers.content-encoding' } });
      expect(notGzip.body.error.message).toContain('not valid gzip');

      const compressed = gzipSync(csv);
      const cut = await upload({ query: seattle, body: compressed.subarray(0, compressed.length - 100), encoding: 'gzip' });
      expect(cut.status).toBe(400);
      expect(cut.body.error).toMatchObject({ code: 'ERR_BAD_REQUEST', details: { field: 'headers.content-encoding' } });

      const corruptJson = await postJson('{"name":"x"}');
      expect(corruptJson.status).toBe(400);
      expect(JSON.parse(corruptJson.body).error.details).toMatchObject({ field: 'headers.content-encoding', issues: [{ field: 'headers.content-encoding' }] });
      expect(await datasetCount()).toBe(before);
    });

    it('answers 415 naming an encoding it does not speak (br, a stack of two)', async () => {
      const csv = seattleWeatherCsv();
      const br = await upload({ query: seattle, body: brotliCompressSync(csv), encoding: 'br' });
      expect(br.status).toBe(415);
      expect(br.body.error).toMatchObject({ code: 'ERR_UNSUPPORTED_MEDIA_TYPE', details: { field: 'headers.content-encoding' } });
      expect(br.body.error.message).toContain('"br"');
      const stacked = await upload({ query: seattle, body: gzipSync(gzipSync(csv)), encoding: 'gzip, gzip' });
      expect(stacked.status).toBe(415);
      expect(stacked.body.error.message).toContain('"gzip, gzip"');
      // identity is no encoding at all.
      expect((await upload({ query: seattle, body: csv, encoding: 'identity' })).status).toBe(201);
    });

    it('leaves a compressed body unread when the route answers without reading it (a tenant over its quota)', async () => {
      const tenant = await createTenant(service.app, 'full');
      const quota = await request(service.app.server)
        .patch(`/v1/tenants/${tenant.id}/quotas`)
        .set('authorization', `Bearer ${ADMIN_KEY}`)
        .send({ datasets: 0 });
      expect(quota.status).toBe(200);
      // Not gzip at all: never inflated, so no inflate error with nobody to hear it (vitest fails on unhandled errors).
      for (const body of [Buffer.from(seattleWeatherCsv()), gzipSync(seattleWeatherCsv())]) {
        const res = await request(service.app.server)
          .post('/v1/datasets')
          .query(seattle)
          .set(auth(tenant.apiKey))
          .set('content-type', 'text/csv')
          .set('content-encoding', 'gzip')
          .send(body);
        expect(res.status).toBe(403);
        expect(res.body.error.code).toBe('ERR_QUOTA_EXCEEDED');
      }
      expect((await request(service.app.server).get('/health')).status).toBe(200);
    });

    it('hashes the inflated text for Idempotency-Key: the same CSV plain or gzip is the same request', async () => {
      const csv = seattleWeatherCsv();
      const first = await upload({ query: seattle, body: csv, idempotencyKey: 'formats-1' });
      expect(first.status).toBe(201);
      const compressed = await upload({ query: seattle, body: gzipSync(csv), encoding: 'gzip', idempotencyKey: 'formats-1' });
      expect(compressed.status).toBe(201);
      expect(compressed.headers['idempotent-replayed']).toBe('true');
      expect(compressed.body.id).toBe(first.body.id);
      const other = await upload({ query: seattle, body: gzipSync(csv.replace('drizzle', 'rain')), encoding: 'gzip', idempotencyKey: 'formats-1' });
      expect(other.status).toBe(422);
      expect(other.body.error.code).toBe('ERR_IDEMPOTENCY_MISMATCH');
    });
  });

  describe('delimiters', () => {
    it('detects semicolons on the header line, or takes ?delimiter=;', async () => {
      const csv = seattleWeatherCsv();
      const semicolons = withDelimiter(csv, ',', ';');
      await expectSameDataset({ query: seattle, body: csv }, { query: seattle, body: semicolons });
      await expectSameDataset({ query: seattle, body: csv }, { query: { ...seattle, delimiter: ';' }, body: semicolons });
      // Told the wrong delimiter, the header is one column and the target is not among them.
      const wrong = await upload({ query: { ...seattle, delimiter: ',' }, body: semicolons });
      expect(wrong.status).toBe(400);
      expect(wrong.body.error.message).toContain('date;precipitation;temp_max');
    });

    it('reads a real TSV as text/tab-separated-values, detects it as text/csv, and takes tab, \\t or %09', async () => {
      const tsv = unemploymentTsv();
      const query = { name: 'unemployment', target: 'rate' };
      const reference = { query, body: withDelimiter(tsv, '\t', ',') };
      const dataset = await expectSameDataset(reference, { query, body: tsv, contentType: 'text/tab-separated-values' });
      expect(dataset).toMatchObject({ rows: tsv.trim().split('\n').length - 1, features: ['id'], targets: ['rate'] });
      await expectSameDataset(reference, { query, body: tsv, contentType: 'text/tab-separated-values; charset=utf-8' });
      await expectSameDataset(reference, { query, body: tsv });
      for (const delimiter of ['tab', '\\t', '\t']) await expectSameDataset(reference, { query: { ...query, delimiter }, body: tsv });
      // gzip and tabs together.
      await expectSameDataset(reference, { query, body: gzipSync(tsv), contentType: 'text/tab-separated-values', encoding: 'gzip' });
    });

    it('answers 400 for a delimiter that contradicts text/tab-separated-values, or one it does not know', async () => {
      const tsv = unemploymentTsv();
      const contradiction = await upload({ query: { name: 'u', target: 'rate', delimiter: ';' }, body: tsv, contentType: 'text/tab-separated-values' });
      expect(contradiction.status).toBe(400);
      expect(contradiction.body.error).toMatchObject({ code: 'ERR_VALIDATION', details: { field: 'querystring.delimiter' } });
      const unknown = await upload({ query: { name: 'u', target: 'rate', delimiter: ':' }, body: tsv });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error.message).toContain('querystring.delimiter');
    });

    it('detects pipes, and counts only delimiters outside quotes', async () => {
      const csv = seattleWeatherCsv();
      await expectSameDataset({ query: seattle, body: csv }, { query: seattle, body: withDelimiter(csv, ',', '|') });
      // Quoted names holding semicolons (more of them than commas): still comma-separated.
      const quoted = csv.replace('temp_max,temp_min,wind', '"temp;max;high","temp;min;low","wind;m/s"');
      const res = await upload({ query: seattle, body: quoted });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body.features).toEqual(['precipitation', 'temp;max;high', 'temp;min;low', 'wind;m/s']);
    });

    it('reads a gzip, semicolon-separated sequence CSV like its plain, comma-separated twin', async () => {
      // Seattle's first 52 weeks, one sequence per week of daily readings (the date left out); the target is the last
      // day's weather.
      const [header, ...lines] = seattleWeatherCsv().trim().split('\n');
      const withoutDate = (line: string) => line.split(',').slice(1).join(',');
      const days = lines.slice(0, 52 * 7).map((line, d) => `w${Math.floor(d / 7)},${withoutDate(line)}`);
      const csv = `week,${withoutDate(header)}\n${days.join('\n')}\n`;
      const query = { name: 'weeks', target: 'weather', sequence: 'week' };
      const compressed = { query, body: gzipSync(withDelimiter(csv, ',', ';')), encoding: 'gzip' };
      const dataset = await expectSameDataset({ query, body: csv }, compressed);
      expect(dataset).toMatchObject({ kind: 'sequence', rows: 52, sequenceLength: 7, features: ['precipitation', 'temp_max', 'temp_min', 'wind'] });
    });
  });
});
