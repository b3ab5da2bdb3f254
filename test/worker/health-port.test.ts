// Many workers on one host: the health port of a second worker never stops it. Unset, WORKER_HEALTH_PORT falls back
// to a free port (logged); set to a port that is taken, the worker refuses in one line naming the variable.
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestService } from '../helpers/app.js';
import { freePort, spawnNode, spawnWorker, workerHealth, type WorkerProcess } from '../helpers/processes.js';

const DEFAULT_PORT = 3001;

/** Holds `port` on 127.0.0.1 (the tests' HOST); resolves undefined when someone else holds it already. */
async function hold(port: number): Promise<Server | undefined> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
const release = (server: Server | undefined) => new Promise((r) => (server ? server.close(r) : r(null)));

describe('worker health port', () => {
  const service = useTestService();
  const workers: WorkerProcess[] = [];
  let blocker: Server | undefined;
  /** The test env without WORKER_HEALTH_PORT (test/helpers/env.ts sets 0). */
  let unsetEnv: Record<string, string>;

  beforeAll(async () => {
    const { WORKER_HEALTH_PORT: _, ...rest } = service.ctx.env;
    unsetEnv = rest;
    // The default port taken, as by a first worker started with `npm run worker` (or by anything else already).
    blocker = await hold(DEFAULT_PORT);
  });
  afterAll(async () => {
    for (const worker of workers) await worker.stop();
    await release(blocker);
  });

  it('unset: two workers start side by side, each on a free port it logs, both healthy', async () => {
    workers.push(await spawnWorker(unsetEnv), await spawnWorker(unsetEnv));
    const [a, b] = workers.map((w) => w.healthPort);
    expect(a).not.toBe(DEFAULT_PORT);
    expect(b).not.toBe(DEFAULT_PORT);
    expect(a).not.toBe(b);
    for (const worker of workers) expect((await workerHealth(worker)).status).toBe('ok');
  });

  it('unset with the default port free: the worker takes 3001', async () => {
    await release(blocker);
    blocker = undefined;
    if (!(await hold(DEFAULT_PORT).then(async (s) => (await release(s), s)))) return; // someone else's 3001
    const worker = await spawnWorker(unsetEnv);
    workers.push(worker);
    expect(worker.healthPort).toBe(DEFAULT_PORT);
  });

  it('set to a taken port: exit 1 with one line naming WORKER_HEALTH_PORT, no stack', async () => {
    const port = await freePort();
    const taken = await hold(port);
    try {
      const proc = spawnNode('dist/worker/main.js', { ...service.ctx.env, WORKER_HEALTH_PORT: String(port), LOG_LEVEL: 'info' });
      const code = await new Promise<number | null>((r) => proc.child.once('exit', r));
      expect(code).toBe(1);
      const stderr = proc.output().split('\n').filter((l) => l && !l.startsWith('{'));
      expect(stderr).toEqual([`worker: WORKER_HEALTH_PORT=${port} is already in use on 127.0.0.1: set WORKER_HEALTH_PORT to a free port, or 0 (or unset it) to pick one`]);
      // Refused before taking work: no "worker started" line.
      expect(proc.output()).not.toContain('worker started');
    } finally {
      await release(taken);
    }
  });
});
