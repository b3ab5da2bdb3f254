// Real public tables end to end over HTTP, Postgres, Redis and a worker process: categorical columns, missing
// cells, ignored columns, a regression target with missing values; held-out figures against baselines computed here.
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { auth } from '../helpers/fixtures.js';
import { postJob, waitForJob } from '../helpers/jobs.js';
import { cars, holdOut, penguins, rowsToCsv, seattleWeatherCsv } from '../helpers/tables.js';

type Row = Record<string, string | number | null>;

describe('real tables: penguins (categories, missing cells), cars (regression, ignored columns), Seattle weather', () => {
  const service = useTestService({ worker: true });
  const http = () => request(service.app.server);

  const train = async (key: string, body: object) => {
    const id = await postJob(service.app, key, body);
    const job = await waitForJob(service.app, key, id, (j) => j.status === 'succeeded' || j.status === 'failed', `job ${id} to end`, 90_000);
    expect(job.error).toBeNull();
    const model = await http().get(`/v1/models/${job.modelId}`).set(auth(key));
    expect(model.status).toBe(200);
    return model.body;
  };

  it('penguins: infers categorical and numeric columns with missing cells, trains, judges and predicts raw rows', async () => {
    const { apiKey } = await createTenant(service.app);
    const rows = penguins();
    const { train: trainRows, test: testRows } = holdOut(rows);
    const upload = await http()
      .post('/v1/datasets')
      .query({ name: 'penguins', target: 'Species' })
      .set(auth(apiKey))
      .set('content-type', 'text/csv')
      .send(rowsToCsv(trainRows));
    expect(upload.status).toBe(201);
    expect(upload.body).toMatchObject({ rows: trainRows.length, classes: ['Adelie', 'Chinstrap', 'Gentoo'], targets: ['Species'] });

    const detail = await http().get(`/v1/datasets/${upload.body.id}`).set(auth(apiKey));
    expect(detail.status).toBe(200);
    const column = (name: string) => detail.body.columns.find((c: { name: string }) => c.name === name);
    const count = (name: string, value: string | null) => trainRows.filter((r) => r[name] === value).length;
    expect(column('Island')).toMatchObject({ type: 'categorical', role: 'feature', missing: 0, distinct: 3 });
    expect(column('Island').categories).toContainEqual({ value: 'Biscoe', count: count('Island', 'Biscoe') });
    expect(column('Sex')).toMatchObject({ type: 'categorical', missing: count('Sex', null) });
    expect(column('Beak Length (mm)')).toMatchObject({ type: 'numeric', role: 'feature', missing: trainRows.filter((r) => r['Beak Length (mm)'] === null).length });
    expect(column('Species')).toMatchObject({ role: 'target', type: 'categorical' });
    expect(detail.body.skippedRows.count).toBe(0);

    const model = await train(apiKey, {
      datasetId: upload.body.id,
      model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }], loss: 'categoricalCrossEntropy' },
      training: { optimizer: { type: 'adam', learningRate: 0.01 }, epochs: 60, batchSize: 16, validationSplit: 0.2, seed: 1 },
    });
    // One-hot Island (3 categories + other + missing), Sex likewise; numeric columns with missing cells get a flag.
    const island = model.preprocessing.columns.find((c: { name: string }) => c.name === 'Island');
    expect(island.type).toBe('categorical');
    expect(new Set(island.categories)).toEqual(new Set(['Biscoe', 'Dream', 'Torgersen']));
    expect(model.preprocessing.inputs).toContain('Island=(other)');
    expect(model.preprocessing.columns.find((c: { name: string }) => c.name === 'Beak Length (mm)')).toMatchObject({ type: 'numeric', indicator: true });
    expect(model.spec.inputSize).toBe(model.preprocessing.inputs.length);

    const evaluation = model.evaluation;
    expect(evaluation).toMatchObject({ kind: 'classification', on: 'validation', rows: Math.floor(trainRows.length * 0.2), labels: ['Adelie', 'Chinstrap', 'Gentoo'] });
    const matrix = evaluation.confusionMatrix as number[][];
    expect(matrix.flat().reduce((a, b) => a + b, 0)).toBe(evaluation.rows);
    const majority = Math.max(...matrix.map((row) => row.reduce((a, b) => a + b, 0))) / evaluation.rows;
    expect(evaluation.accuracy).toBeGreaterThan(majority);
    expect(evaluation.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(evaluation.perClass.map((c: { label: string }) => c.label)).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);

    // Held-out rows with their raw values: strings, numbers, nulls, and an absent key.
    const inputs = testRows.map(({ Species: _label, ...features }) => features);
    const predicted = await http().post(`/v1/models/${model.id}/predict`).set(auth(apiKey)).send({ inputs });
    expect(predicted.status).toBe(200);
    expect(predicted.body.warnings).toBeUndefined();
    const correct = predicted.body.labels.filter((label: string, i: number) => label === testRows[i].Species).length;
    const majorityShare = Math.max(...['Adelie', 'Chinstrap', 'Gentoo'].map((s) => testRows.filter((r) => r.Species === s).length)) / testRows.length;
    expect(correct / testRows.length).toBeGreaterThanOrEqual(0.9);
    expect(correct / testRows.length).toBeGreaterThan(majorityShare);

    const { Island: _island, ...withoutIsland } = inputs[1];
    const odd = await http()
      .post(`/v1/models/${model.id}/predict`)
      .set(auth(apiKey))
      .send({ inputs: [{ ...inputs[0], Island: 'Atlantis' }, withoutIsland, { ...inputs[2], Species: 'ignored: a target column' }] });
    expect(odd.status).toBe(200);
    expect(odd.body.warnings).toEqual([expect.objectContaining({ row: 0, column: 'Island', value: 'Atlantis' })]);

    const wrongKind = await http().post(`/v1/models/${model.id}/predict`).set(auth(apiKey)).send({ inputs: [inputs[0], { ...inputs[1], 'Beak Length (mm)': 'long' }] });
    expect(wrongKind.status).toBe(400);
    expect(wrongKind.body.error.details.field).toBe('inputs[1].Beak Length (mm)');
    expect(wrongKind.body.error.message).toContain('expected a finite number');
    const unknown = await http().post(`/v1/models/${model.id}/predict`).set(auth(apiKey)).send({ inputs: [{ ...inputs[0], Beek: 1 }] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain('unknown Beek');
    const asArray = await http().post(`/v1/models/${model.id}/predict`).set(auth(apiKey)).send({ inputs: [[1, 2, 3, 4, 5, 6]] });
    expect(asArray.status).toBe(400);
    expect(asArray.body.error.message).toContain('categorical columns');

    // The held-out rows as a dataset of their own, judged with the model's stored encoding.
    const columns = Object.keys(rows[0]);
    const heldOut = await http()
      .post('/v1/datasets')
      .set(auth(apiKey))
      .send({ name: 'penguins-test', columns, rows: testRows.map((r) => columns.map((c) => r[c])), target: 'Species' });
    expect(heldOut.status).toBe(201);
    const judged = await http().post(`/v1/models/${model.id}/evaluate`).set(auth(apiKey)).send({ datasetId: heldOut.body.id });
    expect(judged.status).toBe(200);
    expect(judged.body).toMatchObject({ kind: 'classification', on: 'dataset', rows: testRows.length });
    expect(judged.body.accuracy).toBeCloseTo(correct / testRows.length, 10);
  });

  it('cars: a regression target with missing values, ignored name and date, cylinders declared categorical', async () => {
    const { apiKey } = await createTenant(service.app);
    const rows = cars();
    const { train: trainRows, test: testRows } = holdOut(rows);
    const columns = Object.keys(rows[0]);
    const upload = await http()
      .post('/v1/datasets')
      .set(auth(apiKey))
      .send({
        name: 'cars',
        columns,
        rows: trainRows.map((r) => columns.map((c) => r[c])),
        target: 'Miles_per_Gallon',
        ignore: ['Name', 'Year'],
        columnTypes: { Cylinders: 'categorical' },
      });
    expect(upload.status).toBe(201);
    const missingTarget = trainRows.filter((r) => r.Miles_per_Gallon === null).length;
    expect(missingTarget).toBeGreaterThan(0);
    expect(upload.body.rows).toBe(trainRows.length - missingTarget);
    expect(upload.body.features).toEqual(['Cylinders', 'Displacement', 'Horsepower', 'Weight_in_lbs', 'Acceleration', 'Origin']);
    const detail = await http().get(`/v1/datasets/${upload.body.id}`).set(auth(apiKey));
    expect(detail.body.skippedRows).toEqual({ count: missingTarget, reason: expect.stringContaining('target is missing') });
    const byName = Object.fromEntries(detail.body.columns.map((c: { name: string }) => [c.name, c]));
    expect(byName.Name).toMatchObject({ role: 'ignored', type: 'categorical' });
    expect(byName.Name.warnings).toEqual([]); // already left out: nothing to suggest
    expect(byName.Year).toMatchObject({ role: 'ignored' });
    expect(byName.Cylinders).toMatchObject({ role: 'feature', type: 'categorical' });
    expect(byName.Origin.categories.map((c: { value: string }) => c.value)).toEqual(['USA', 'Japan', 'Europe']);

    const model = await train(apiKey, {
      datasetId: upload.body.id,
      model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }, { type: 'dense', units: 1, activation: 'linear' }], loss: 'meanSquaredError' },
      training: { optimizer: { type: 'adam', learningRate: 0.01 }, epochs: 150, batchSize: 16, validationSplit: 0.2, seed: 2 },
    });
    expect(model.preprocessing.target.center[0]).toBeGreaterThan(15); // trained on standardized miles per gallon
    expect(model.evaluation).toMatchObject({ kind: 'regression', on: 'validation', targets: [{ name: 'Miles_per_Gallon' }] });
    expect(model.evaluation.targets[0].r2).toBeGreaterThan(0.7);

    // Held-out cars with a known target, predicted in miles per gallon, against predicting the training mean.
    const known = testRows.filter((r) => r.Miles_per_Gallon !== null);
    const predicted = await http()
      .post(`/v1/models/${model.id}/predict`)
      .set(auth(apiKey))
      .send({ inputs: known.map(({ Miles_per_Gallon: _y, ...x }) => x) });
    expect(predicted.status).toBe(200);
    const truth = known.map((r) => r.Miles_per_Gallon as number);
    const trainTargets = trainRows.flatMap((r) => (r.Miles_per_Gallon === null ? [] : [r.Miles_per_Gallon as number]));
    const trainMean = trainTargets.reduce((a, b) => a + b, 0) / trainTargets.length;
    const rmse = (guess: (i: number) => number) => Math.sqrt(truth.reduce((s, y, i) => s + (guess(i) - y) ** 2, 0) / truth.length);
    const ours = rmse((i) => predicted.body.outputs[i][0]);
    const baseline = rmse(() => trainMean);
    expect(ours).toBeLessThan(baseline / 1.5);
    expect(ours).toBeLessThan(4.5);
  });

  it('Seattle weather: a date column left out by ignore, or kept with a warning; bad cells refused, nothing stored', async () => {
    const { apiKey } = await createTenant(service.app);
    const csv = seattleWeatherCsv();
    const post = (query: object, body = csv) => http().post('/v1/datasets').query({ name: 'weather', target: 'weather', ...query }).set(auth(apiKey)).set('content-type', 'text/csv').send(body);

    const ignored = await post({ ignore: 'date' });
    expect(ignored.status).toBe(201);
    expect(ignored.body.features).toEqual(['precipitation', 'temp_max', 'temp_min', 'wind']);
    expect(ignored.body.classes).toEqual(['drizzle', 'fog', 'rain', 'snow', 'sun']);
    const kept = await post({});
    expect(kept.status).toBe(201);
    const date = (await http().get(`/v1/datasets/${kept.body.id}`).set(auth(apiKey))).body.columns[0];
    expect(date).toMatchObject({ name: 'date', type: 'categorical', role: 'feature' });
    expect(date.warnings.join()).toContain('looks like an identifier');

    const lines = csv.split('\n');
    lines[10] = lines[10].replace(/^([^,]*,[^,]*),[^,]*/, '$1,warm');
    const before = (await http().get('/v1/datasets').set(auth(apiKey))).body.items.length;
    const mostlyNumeric = await post({ ignore: 'date' }, lines.join('\n'));
    expect(mostlyNumeric.status).toBe(400);
    expect(mostlyNumeric.body.error.details).toMatchObject({ row: 10, column: 'temp_max' });
    expect(mostlyNumeric.body.error.message).toContain('mark the cell missing');
    expect(mostlyNumeric.body.error.message).toContain('columnTypes temp_max:categorical');
    const asCategory = await post({ ignore: 'date', columnTypes: 'temp_max:categorical' }, lines.join('\n'));
    expect(asCategory.status).toBe(201);

    const unknownIgnore = await post({ ignore: 'date,dte' });
    expect(unknownIgnore.status).toBe(400);
    expect(unknownIgnore.body.error.message).toContain('dte');
    const badType = await post({ columnTypes: 'wind:colour' });
    expect(badType.status).toBe(400);
    expect(badType.body.error.details.field).toBe('querystring.columnTypes');
    const unknownTyped = await post({ columnTypes: 'gust:numeric' });
    expect(unknownTyped.status).toBe(400);
    expect(unknownTyped.body.error.message).toContain('gust');
    const empty = csv.split('\n').map((line, i) => (i === 0 ? `${line},empty` : line === '' ? line : `${line},NA`)).join('\n');
    const allMissing = await post({ ignore: 'date' }, empty);
    expect(allMissing.status).toBe(400);
    expect(allMissing.body.error.message).toContain('every cell is missing');
    expect((await http().get('/v1/datasets').set(auth(apiKey))).body.items.length).toBe(before + 1);
  });
});
