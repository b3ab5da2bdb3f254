// The dashboard's sweep view in headless Chromium: a grid sweep on Iris, followed live; its trials as a table sorted
// by the objective (the API's figures), the objective against the learning rate drawn, and a trial's row opening
// its job in the training panel.
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { auth, irisNetwork } from '../helpers/fixtures.js';
import { uploadIris } from '../helpers/jobs.js';
import { waitFor } from '../helpers/processes.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = fileURLToPath(new URL('../../test-results/sweep-view.png', import.meta.url));
/** The trial colour of public/sweeps.js. */
const TRIAL_RGB = [0x25, 0x63, 0xeb];

describe('sweep view in headless Chromium', () => {
  const service = useTestService({ worker: true });
  let url: string;
  let browser: Browser;
  let key: string;

  beforeAll(async () => {
    await service.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(service.app.server.address() as { port: number }).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    key = (await createTenant(service.app)).apiKey;
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('lists the trials best first, plots the objective against the learning rate, and opens a trial\'s job', async () => {
    const datasetId = await uploadIris(service.app, key);
    const created = await request(service.app.server)
      .post('/v1/sweeps')
      .set(auth(key))
      .send({
        datasetId,
        base: { model: irisNetwork, training: { optimizer: { type: 'adam', learningRate: 0.01 }, epochs: 30, validationSplit: 0.2, seed: 4 } },
        space: { 'training.optimizer.learningRate': { choice: [0.001, 0.01, 0.05, 0.2] } },
        strategy: 'grid',
        parallelism: 2,
      });
    expect(created.status, created.text).toBe(202);

    const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => msg.type() === 'error' && problems.push(`console: ${msg.text()}`));
    await page.goto(url);
    await page.fill('#api-key', key);
    await page.click('#key-form button[type=submit]');

    // Live: the view refreshes itself until the sweep has ended.
    await page.locator('#sweep p', { hasText: /^succeeded/ }).waitFor({ timeout: 60_000 });
    const sweep = (await request(service.app.server).get(`/v1/sweeps/${created.body.id}`).set(auth(key))).body;
    const rows = page.locator('#sweep .sweep-trials tbody tr');
    expect(await rows.count()).toBe(4);
    const shown = await rows.evaluateAll((trs) => trs.map((tr) => [tr.children[0].textContent, tr.children[1].textContent]));
    const byObjective = [...sweep.trials].sort((a: { objective: number }, b: { objective: number }) => a.objective - b.objective);
    expect(shown.map(([trial]) => Number(trial))).toEqual(byObjective.map((t: { trial: number }) => t.trial));
    for (const [i, [, objective]] of shown.entries()) expect(Number(objective)).toBeCloseTo(byObjective[i].objective, 3);

    const blue = await waitFor('the trials drawn on the chart', () =>
      page.$eval('#sweep .sweep-chart canvas', (canvas, [r, g, b]) => {
        const c = canvas as unknown as { width: number; height: number; getContext(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
        const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
        let count = 0;
        for (let i = 0; i < data.length; i += 4) if (Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 60 && data[i + 3] > 200) count++;
        return count > 0 ? count : undefined;
      }, TRIAL_RGB), 10_000);
    expect(blue).toBeGreaterThan(0);
    await expect(page.locator('#sweep figcaption').textContent()).resolves.toBe('valLoss against training.optimizer.learningRate');

    await page.locator('#sweep').screenshot({ path: SCREENSHOT });

    await rows.first().click();
    await page.locator('#job-summary', { hasText: byObjective[0].jobId.slice(0, 8) }).waitFor({ timeout: 10_000 });
    expect(problems).toEqual([]);
  });
});
