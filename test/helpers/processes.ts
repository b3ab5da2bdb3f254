// Real processes from compiled dist/ (worker threads cannot run TypeScript on Node 20): `npm test` builds first.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

export interface Spawned {
  child: ChildProcess;
  output: () => string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL: a crash, nothing gets to clean up. */
  kill(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

export function spawnNode(script: string, env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, [script], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'pipe' });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  return {
    child,
    output: () => output,
    async stop() {
      child.kill('SIGTERM');
      await exited(child);
    },
    async kill() {
      child.kill('SIGKILL');
      await exited(child);
    },
  };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

export interface WorkerProcess extends Spawned {
  healthPort: number;
}

/** The worker's GET /health body (src/worker/health-server.ts). */
export interface WorkerHealthBody {
  status: string;
  activeJobs: number;
  eventLoopDelayMs: { max: number; p99: number; mean: number };
}

export async function workerHealth(worker: WorkerProcess): Promise<WorkerHealthBody> {
  return (await (await fetch(`http://127.0.0.1:${worker.healthPort}/health`)).json()) as WorkerHealthBody;
}

/** The JSON log entries of `output` (a process's pino lines) whose line contains `text`. */
export const loggedEntries = (output: string, text: string): Record<string, unknown>[] =>
  output.split('\n').filter((l) => l.includes(text)).map((l) => JSON.parse(l) as Record<string, unknown>);

/** Starts `node dist/worker/main.js` and waits for its "worker started" log line (which carries the health port). */
export async function spawnWorker(env: Record<string, string>): Promise<WorkerProcess> {
  const proc = spawnNode('dist/worker/main.js', { ...env, LOG_LEVEL: 'info' });
  const healthPort = await waitFor('worker to start', () => {
    if (proc.child.exitCode !== null) throw new Error(`worker exited: ${proc.output()}`);
    const line = proc.output().split('\n').find((l) => l.includes('"worker started"'));
    return line ? (JSON.parse(line).healthPort as number) : undefined;
  });
  return { ...proc, healthPort };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  await new Promise((r) => server.close(r));
  return typeof address === 'object' && address ? address.port : 0;
}

/** Starts `node dist/server.js` on a free port and waits until /health answers. */
export async function spawnApi(env: Record<string, string>): Promise<Spawned & { url: string }> {
  const port = await freePort();
  const proc = spawnNode('dist/server.js', { ...env, PORT: String(port) });
  const url = `http://127.0.0.1:${port}`;
  await waitFor('API to start', async () => {
    if (proc.child.exitCode !== null) throw new Error(`API exited: ${proc.output()}`);
    return (await fetch(`${url}/health`)).ok;
  });
  return { ...proc, url };
}
