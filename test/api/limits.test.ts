// Configured limits answer a coded 4xx naming the limit: dataset rows, columns and cells (413), model parameters
// (422) and epochs (400). Column and row limits stop a CSV while it is being read.
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { DatasetTooLargeError } from '../../src/data/dataset-error.js';
import { readCsv } from '../../src/data/parse-csv.js';
import { createTenant, useTestService } from '../helpers/app.js';
import { auth } from '../helpers/fixtures.js';

describe('limits', () => {
  const service = useTestService({
    env: {
      DATASET_MAX_ROWS: '100',
      DATASET_MAX_COLUMNS: '50',
      DATASET_MAX_CELLS: '1000',
      MODEL_MAX_PARAMETERS: '10000',
      TRAINING_MAX_EPOCHS: '200',
    },
  });
  let key: string;
  let datasetId: string;

  const csv = (body: string, target = 'y') =>
    request(service.app.server).post('/v1/datasets').query({ name: 'd', target }).set(auth(key)).set('content-type', 'text/csv').send(body);
  const job = (body: object) => request(service.app.server).post('/v1/jobs').set(auth(key)).send(body);
  const dense = (units: number, activation = 'relu') => ({ type: 'dense', units, activation });

  beforeAll(async () => {
    key = (await createTenant(service.app)).apiKey;
    const res = await csv(`a,b,y\n${Array.from({ length: 20 }, (_, i) => `${i},${i % 3},${i % 2}`).join('\n')}\n`);
    expect(res.status).toBe(201);
    datasetId = res.body.id;
  });

  it('413 for datasets over DATASET_MAX_ROWS, DATASET_MAX_COLUMNS or DATASET_MAX_CELLS, CSV or JSON', async () => {
    const rows = await csv(`a,y\n${'1,2\n'.repeat(101)}`);
    expect(rows.status).toBe(413);
    expect(rows.body.error).toMatchObject({ code: 'ERR_DATASET_TOO_LARGE', message: expect.stringContaining('DATASET_MAX_ROWS') });
    const columns = await csv(`${Array.from({ length: 51 }, (_, i) => `c${i}`).join(',')},y\n`);
    expect(columns.status).toBe(413);
    expect(columns.body.error.message).toContain('more than 50 columns (DATASET_MAX_COLUMNS)');
    const cells = await csv(`${Array.from({ length: 40 }, (_, i) => `c${i}`).join(',')},y\n${`${'1,'.repeat(40)}1\n`.repeat(30)}`);
    expect(cells.status).toBe(413);
    expect(cells.body.error.message).toContain('DATASET_MAX_CELLS');

    const json = (body: object) => request(service.app.server).post('/v1/datasets').set(auth(key)).send(body);
    const jsonRows = await json({ name: 'd', columns: ['a', 'y'], rows: Array.from({ length: 101 }, () => [1, 2]), target: 'y' });
    expect(jsonRows.status).toBe(413);
    const jsonColumns = await json({ name: 'd', columns: Array.from({ length: 51 }, (_, i) => `c${i}`), rows: [[1]], target: 'c0' });
    expect(jsonColumns.status).toBe(413);
    expect(jsonColumns.body.error.message).toContain('DATASET_MAX_COLUMNS');
  });

  it('stops reading a CSV at the first column over the limit, before the rest of the line', () => {
    // The unclosed quote at the very end would be an error too; the column limit must be found first.
    const header = `${'a,'.repeat(2_000_000)}"never closed`;
    const seen: number[] = [];
    let error: unknown;
    try {
      readCsv(header, (cells) => seen.push(cells.length), { maxColumns: 1000, maxRows: 10 });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DatasetTooLargeError);
    expect((error as Error).message).toContain('more than 1000 columns');
    expect(seen).toEqual([]);
  });

  it('422 for models over MODEL_MAX_PARAMETERS, counted for the dataset\'s width', async () => {
    // 2 features: 2*100+100 + 100*100+100 + 100*1+1 = 10,501 > 10,000
    const res = await job({ datasetId, model: { layers: [dense(100), dense(100), dense(1, 'linear')], loss: 'meanSquaredError' } });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'ERR_MODEL_TOO_LARGE', details: { parameters: 10_501, limit: 10_000 } });
    expect(res.body.error.message).toContain('MODEL_MAX_PARAMETERS');
    const fits = await job({ datasetId, model: { layers: [dense(90), dense(90), dense(1, 'linear')], loss: 'meanSquaredError' } });
    expect(fits.status).toBe(202);
  });

  it('400 for more epochs than TRAINING_MAX_EPOCHS', async () => {
    const model = { layers: [dense(1, 'linear')], loss: 'meanSquaredError' };
    const res = await job({ datasetId, model, training: { epochs: 201 } });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe('body.training.epochs: expected at most 200 (TRAINING_MAX_EPOCHS), got 201');
    expect((await job({ datasetId, model, training: { epochs: 200 } })).status).toBe(202);
  });

  it('documents the limits in force in the OpenAPI description', async () => {
    const doc = (await request(service.app.server).get('/docs/json')).body;
    for (const text of ['100 rows (DATASET_MAX_ROWS)', '50 columns', '1000 cells', '10000 weights and biases', '200 epochs']) {
      expect(doc.info.description).toContain(text);
    }
  });
});
