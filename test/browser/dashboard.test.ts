// The dashboard in a real browser: headless Chromium (Debian's package, driven by playwright-core) loads the page
// from the API under its CSP, takes an API key, starts a job, watches the loss curve grow while the job trains
// (events over SSE), sees accuracy, runs a prediction with the trained model, and saves a screenshot that must
// not be blank. A second job, Iris trained through the API, is picked from the list: its model's confusion matrix and
// per-class figures, and its dataset's columns, must be the API's.
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClassificationEvaluation } from '../../src/contracts/evaluation.js';
import { registerVersion } from '../../src/db/registry.js';
import { createTenant, useTestService } from '../helpers/app.js';
import { auth, irisNetwork, irisSplit } from '../helpers/fixtures.js';
import { postJob, uploadDataset, waitForJob } from '../helpers/jobs.js';
import { waitFor } from '../helpers/processes.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = fileURLToPath(new URL('../../test-results/dashboard.png', import.meta.url));
const EPOCHS = 40;
/** The chart colours of public/charts.js. */
const TRAINING_RGB = [0x25, 0x63, 0xeb];
const VALIDATION_RGB = [0xea, 0x58, 0x0c];
const RATE_RGB = [0x16, 0xa3, 0x4a];

/** Three classes of 20 smooth features, big enough that an epoch of a 128-128-3 network takes about 0.1 s here. */
function classificationSet(rows: number, features: number) {
  const columns = [...Array.from({ length: features }, (_, i) => `x${i}`), 'label'];
  const data = Array.from({ length: rows }, (_, r) => {
    const x = Array.from({ length: features }, (_, i) => Math.sin(r * 0.37 + i * 1.3));
    const scores = [x[0] + x[1], x[2] + x[3], x[4] + x[5]];
    return [...x, ['a', 'b', 'c'][scores.indexOf(Math.max(...scores))]];
  });
  return { columns, rows: data };
}

// The few browser types the page functions below use (the project compiles against Node's types, not the DOM's).
interface Canvas2D {
  width: number;
  height: number;
  getContext(kind: '2d'): { drawImage(image: unknown, x: number, y: number): void; getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}
interface BrowserGlobals {
  createImageBitmap(blob: Blob): Promise<{ width: number; height: number }>;
  OffscreenCanvas: new (width: number, height: number) => Canvas2D;
}

/** Pixels of the canvas within a small distance of the colour. */
const colouredPixels = (page: Page, selector: string, rgb: number[]) =>
  page.$eval(
    selector,
    (canvas, [r, g, b]) => {
      const c = canvas as unknown as Canvas2D;
      const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
      let count = 0;
      for (let i = 0; i < data.length; i += 4) if (Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 60 && data[i + 3] > 200) count++;
      return count;
    },
    rgb,
  );

/** The last epoch drawn: hover the right edge of the loss chart and read the epoch in uPlot's legend. */
async function lastPlottedEpoch(page: Page): Promise<number> {
  const box = (await page.locator('#loss-chart .u-over').boundingBox())!;
  await page.mouse.move(box.x + box.width - 1, box.y + box.height / 2);
  const text = await page.locator('#loss-chart .u-legend .u-series').first().locator('.u-value').textContent();
  return Number(text);
}

describe('dashboard in headless Chromium', () => {
  const service = useTestService({ worker: true });
  let url: string;
  let browser: Browser;
  let key: string;
  let datasetId: string;

  beforeAll(async () => {
    await service.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(service.app.server.address() as { port: number }).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    key = (await createTenant(service.app)).apiKey;
    const upload = await request(service.app.server).post('/v1/datasets').set(auth(key)).send({ name: 'three-classes', ...classificationSet(2000, 20), target: 'label' });
    expect(upload.status, upload.text).toBe(201);
    datasetId = upload.body.id;
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('starts a job, draws its loss and accuracy live, predicts with the model, and renders a non-blank page', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => msg.type() === 'error' && problems.push(`console: ${msg.text()}`));

    const loaded = await page.goto(url);
    expect(loaded?.status()).toBe(200);
    expect(loaded?.headers()['content-security-policy']).toContain("script-src 'self'");
    await expect(page.title()).resolves.toContain('backprop');

    await page.fill('#api-key', key);
    await page.click('#key-form button[type=submit]');
    await page.locator('#jobs-empty', { hasText: 'No jobs yet' }).waitFor();

    await page.fill('#dataset-id', datasetId);
    const spec = {
      model: { layers: [{ type: 'dense', units: 128, activation: 'relu' }, { type: 'dense', units: 128, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }], loss: 'categoricalCrossEntropy' },
      training: {
        optimizer: { type: 'adam', learningRate: 0.001 },
        epochs: EPOCHS,
        batchSize: 32,
        validationSplit: 0.2,
        seed: 5,
        schedule: { type: 'step', every: EPOCHS / 2, factor: 0.5 },
      },
      preprocessing: { standardize: true },
    };
    await page.fill('#job-spec', JSON.stringify(spec));
    await page.click('#job-form button[type=submit]');
    await page.locator('#message', { hasText: 'queued' }).waitFor();
    await page.locator('#job-charts').waitFor({ state: 'visible' });

    // The curve grows while the job trains: a few epochs drawn first, many more later, and the list shows progress.
    const early = await waitFor('a few epochs on the chart', async () => {
      const epoch = await lastPlottedEpoch(page);
      return epoch >= 2 && epoch <= EPOCHS - 10 ? epoch : undefined;
    }, 30_000, 100);
    const row = page.locator('#job-rows tr').first();
    await expect(row.locator('.badge').textContent()).resolves.toBe('running');
    const progress = Number(await row.locator('progress').getAttribute('value'));
    expect(progress).toBeGreaterThanOrEqual(early);
    expect(await row.locator('td').nth(4).textContent()).toMatch(/^\d+(s|m \d{2}s)$/); // ETA
    const earlyImage = await page.locator('#loss-chart canvas').screenshot();

    const later = await waitFor('more epochs on the chart', async () => {
      const epoch = await lastPlottedEpoch(page);
      return epoch >= early + 10 ? epoch : undefined;
    }, 30_000, 200);
    expect(later).toBeGreaterThan(early);
    expect((await page.locator('#loss-chart canvas').screenshot()).equals(earlyImage)).toBe(false);

    await page.locator('#job-summary', { hasText: 'succeeded' }).waitFor({ timeout: 30_000 });
    expect(await lastPlottedEpoch(page)).toBe(EPOCHS);
    expect(await page.locator('#job-summary').textContent()).toMatch(new RegExp(`epoch ${EPOCHS}/${EPOCHS}.*accuracy \\d+\\.\\d%`));
    expect(await colouredPixels(page, '#loss-chart canvas', TRAINING_RGB)).toBeGreaterThan(100);
    expect(await colouredPixels(page, '#loss-chart canvas', VALIDATION_RGB)).toBeGreaterThan(100);
    // The learning rate on its own axis: halved half way, as the step schedule says, and read in the legend at the last epoch.
    expect(await colouredPixels(page, '#loss-chart canvas', RATE_RGB)).toBeGreaterThan(100);
    const rate = page.locator('#loss-chart .u-legend .u-series').nth(3);
    await expect(rate.locator('.u-label').textContent()).resolves.toBe('learning rate');
    await expect(rate.locator('.u-value').textContent()).resolves.toBe('5.0e-4');
    await expect(page.locator('#accuracy-figure').isVisible()).resolves.toBe(true);
    expect(await colouredPixels(page, '#accuracy-chart canvas', TRAINING_RGB)).toBeGreaterThan(100);
    // The model's evaluation and the dataset's columns come with it (checked in detail on Iris below).
    await page.locator('#evaluation table.confusion').waitFor();
    expect(await page.locator('#evaluation table.confusion thead th').allTextContents()).toEqual(['actual \\ predicted', 'a', 'b', 'c']);
    expect(await page.locator('#dataset table.columns tbody tr').count()).toBe(21);

    // Predict with the trained model: the summary's button fills in the model and a row of zeros.
    await page.click('#job-summary button.link');
    await expect(page.locator('#model-id').inputValue()).resolves.toMatch(/^[0-9a-f-]{36}$/);
    await page.click('#predict-form button[type=submit]');
    await page.locator('#predict-output').waitFor({ state: 'visible' });
    const prediction = await page.locator('#predict-output').textContent();
    expect(prediction).toMatch(/"labels": \["[abc]"\]/);
    expect(prediction).toMatch(/"outputs": \[\s+\[[-\d.e,]+\]\s+\]/);

    await mkdir(fileURLToPath(new URL('.', `file://${SCREENSHOT}`)), { recursive: true });
    const png = await page.screenshot({ path: SCREENSHOT, fullPage: true });
    // Decoded by the browser itself: a blank page has one or two colours, this one has curves, text and badges.
    const { colours, nonWhite } = await page.evaluate(async (base64) => {
      const browser = globalThis as unknown as BrowserGlobals;
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const bitmap = await browser.createImageBitmap(new Blob([bytes], { type: 'image/png' }));
      const canvas = new browser.OffscreenCanvas(bitmap.width, bitmap.height);
      const context = canvas.getContext('2d');
      context.drawImage(bitmap, 0, 0);
      const { data } = context.getImageData(0, 0, bitmap.width, bitmap.height);
      const seen = new Set<number>();
      let notWhite = 0;
      for (let i = 0; i < data.length; i += 4) {
        seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
        if (data[i] + data[i + 1] + data[i + 2] < 720) notWhite++;
      }
      return { colours: seen.size, nonWhite: notWhite / (data.length / 4) };
    }, png.toString('base64'));
    expect(colours).toBeGreaterThan(100);
    expect(nonWhite).toBeGreaterThan(0.02);

    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows a finished job\'s confusion matrix, per-class figures and dataset columns as the API has them (Iris)', async () => {
    // Iris as it might arrive: a row id to ignore, a column that never changes, one measurement missing.
    const rows: (string | number | null)[][] = irisSplit().train.map((row, i) => [`iris-${i + 1}`, ...row, 'Anderson']);
    rows[3][2] = null;
    const datasetId = await uploadDataset(service.app, key, {
      name: 'iris',
      columns: ['id', 'sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'species', 'collector'],
      rows,
      target: 'species',
      ignore: ['id'],
    });
    const training = { optimizer: { type: 'adam', learningRate: 0.01 }, epochs: 60, batchSize: 16, validationSplit: 0.2, seed: 7 };
    const jobId = await postJob(service.app, key, { datasetId, model: irisNetwork, training });
    const { modelId } = await waitForJob(service.app, key, jobId, (j) => j.status === 'succeeded', 'the Iris job to succeed');
    const model = await request(service.app.server).get(`/v1/models/${modelId}`).set(auth(key));
    const evaluation = model.body.evaluation as ClassificationEvaluation;
    expect(evaluation).toMatchObject({ kind: 'classification', on: 'validation', labels: ['setosa', 'versicolor', 'virginica'] });

    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => msg.type() === 'error' && problems.push(`console: ${msg.text()}`));
    await page.goto(url);
    await page.fill('#api-key', key);
    await page.click('#key-form button[type=submit]');
    await page.locator(`#job-rows td[title="${jobId}"]`).click();

    const matrix = page.locator('#evaluation table.confusion');
    await matrix.waitFor();
    expect(await matrix.locator('caption').textContent()).toContain('rows: actual class, columns: predicted class');
    expect(await matrix.locator('thead th').allTextContents()).toEqual(['actual \\ predicted', ...evaluation.labels]);
    const shown: [string | null, number[]][] = [];
    for (const row of await matrix.locator('tbody tr').all()) shown.push([await row.locator('th').textContent(), (await row.locator('td').allTextContents()).map(Number)]);
    expect(shown).toEqual(evaluation.labels.map((label, i) => [label, evaluation.confusionMatrix[i]]));
    expect(shown.flatMap(([, counts]) => counts).reduce((a, b) => a + b, 0)).toBe(evaluation.rows);
    // Shaded by share of the actual class: a diagonal cell holding all of its class is fully shaded.
    const perfect = evaluation.confusionMatrix.findIndex((counts, i) => counts[i] > 0 && counts[i] === counts.reduce((a, b) => a + b, 0));
    if (perfect >= 0) expect(await matrix.locator('tbody tr').nth(perfect).locator('td').nth(perfect).getAttribute('style')).toContain('--share: 1.000');

    const perClass: string[][] = [];
    for (const row of await page.locator('#evaluation table.per-class tbody tr').all()) perClass.push(await row.locator('th, td').allTextContents());
    expect(perClass).toEqual(evaluation.perClass.map((c) => [c.label, c.precision.toFixed(3), c.recall.toFixed(3), c.f1.toFixed(3), String(c.support)]));
    const figures = await page.locator('#evaluation .figures').textContent();
    expect(figures).toContain(`accuracy${(evaluation.accuracy * 100).toFixed(1)}%`);
    expect(figures).toContain(`macro F1${evaluation.macroF1.toFixed(3)}`);
    expect(figures).not.toContain('ROC AUC'); // three classes: the API has none
    expect(await page.locator('#evaluation').textContent()).toContain(`On ${evaluation.rows} validation rows.`);

    // The dataset's columns: every upload column with its type, role, missing cells and warnings.
    const columns = new Map<string, string[]>();
    for (const row of await page.locator('#dataset table.columns tbody tr').all()) {
      const [name, ...cells] = await row.locator('th, td').allTextContents();
      columns.set(name, cells);
    }
    expect([...columns.keys()]).toEqual(['id', 'sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'species', 'collector']);
    const [type, role, missing] = [0, 1, 2];
    expect(columns.get('id')![role]).toBe('ignored');
    expect(columns.get('species')!.slice(0, 2)).toEqual(['categorical', 'target']);
    expect(columns.get('sepal_width')!.slice(0, 3)).toEqual(['numeric', 'feature', '1']);
    expect(columns.get('sepal_length')![missing]).toBe('0');
    expect(columns.get('collector')![type]).toBe('categorical');
    expect(columns.get('collector')!.at(-1)).toMatch(/^constant/);
    expect(await page.locator('#dataset').textContent()).toContain(`iris: ${rows.length} rows · 5 features · target species · 3 classes`);

    // Predict: the example row holds the columns' imputed values and most frequent category; an unseen one warns.
    await page.click('#job-summary button.link');
    await expect.poll(() => page.locator('#predict-inputs').inputValue()).toContain('collector');
    const example = JSON.parse(await page.locator('#predict-inputs').inputValue()) as Record<string, unknown>[];
    expect(example).toEqual([{ sepal_length: expect.any(Number), sepal_width: expect.any(Number), petal_length: expect.any(Number), petal_width: expect.any(Number), collector: 'Anderson' }]);
    await page.fill('#predict-inputs', JSON.stringify([{ ...example[0], collector: 'Fisher' }]));
    await page.click('#predict-form button[type=submit]');
    await page.locator('#predict-output', { hasText: 'warnings' }).waitFor();
    expect(await page.locator('#predict-output').textContent()).toMatch(/"warnings": \[\n {4}\{"row":0,"column":"collector","value":"Fisher",/);

    expect(problems).toEqual([]);
    await page.close();
  });

  it("lists registered names with their versions, evaluation figures and aliases; a version's model fills Predict", async () => {
    // The two models the tests above trained, registered oldest first as versions 1 and 2 of one name.
    const jobs = (await request(service.app.server).get('/v1/jobs?status=succeeded').set(auth(key))).body.items as { modelId: string }[];
    const modelIds = jobs.map((j) => j.modelId).reverse();
    expect(modelIds).toHaveLength(2);
    const { tenantId } = (await service.app.db.model.findUniqueOrThrow({ where: { id: modelIds[0] }, select: { tenantId: true } }));
    for (const id of modelIds) await service.app.db.$transaction((tx) => registerVersion(tx, tenantId, 'classifier', id));
    const moved = await request(service.app.server).put('/v1/registry/classifier/aliases/production').set(auth(key)).send({ version: 1 });
    expect(moved.status, moved.text).toBe(201);
    const registry = (await request(service.app.server).get('/v1/registry/classifier').set(auth(key))).body;

    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => msg.type() === 'error' && problems.push(`console: ${msg.text()}`));
    await page.goto(url);
    await page.fill('#api-key', key);
    await page.click('#key-form button[type=submit]');
    const name = page.locator('#registry .registered-model');
    await name.waitFor();
    expect(await name.locator('h3').textContent()).toBe('classifier (production → v1)');
    const rows: string[][] = [];
    for (const row of await name.locator('tbody tr').all()) rows.push(await row.locator('td').allTextContents());
    // Newest first: version, aliases, model id (short), the evaluation's accuracy.
    const accuracy = (v: number) => `accuracy ${(registry.versions[v - 1].evaluation.accuracy * 100).toFixed(1)}%`;
    expect(rows.map((r) => r.slice(0, 4))).toEqual([
      ['v2', '', modelIds[1].slice(0, 8), accuracy(2)],
      ['v1', 'production', modelIds[0].slice(0, 8), accuracy(1)],
    ]);
    expect(await page.locator('#registry-empty').isHidden()).toBe(true);
    await name.locator('tbody tr').nth(1).locator('button.link').click();
    await expect.poll(() => page.locator('#model-id').inputValue()).toBe(modelIds[0]);
    expect(problems).toEqual([]);
    await page.close();
  });
});
