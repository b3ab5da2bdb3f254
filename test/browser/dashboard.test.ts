// The dashboard in a real browser: headless Chromium (Debian's package, driven by playwright-core) loads the page
// from the API under its CSP, takes an API key, starts a job, watches the loss curve grow while the job trains
// (events over SSE), sees accuracy, runs a prediction with the trained model, and saves a screenshot that must
// not be blank.
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { auth } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/processes.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = fileURLToPath(new URL('../../test-results/dashboard.png', import.meta.url));
const EPOCHS = 40;
/** The chart colours of public/charts.js. */
const TRAINING_RGB = [0x25, 0x63, 0xeb];
const VALIDATION_RGB = [0xea, 0x58, 0x0c];

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
      training: { optimizer: { type: 'adam', learningRate: 0.001 }, epochs: EPOCHS, batchSize: 32, validationSplit: 0.2, seed: 5 },
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
    await expect(page.locator('#accuracy-figure').isVisible()).resolves.toBe(true);
    expect(await colouredPixels(page, '#accuracy-chart canvas', TRAINING_RGB)).toBeGreaterThan(100);

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
});
