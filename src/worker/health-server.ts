// The worker's own tiny health endpoint. It reports the event-loop delay so operators (and the tests) can see
// that training in worker threads never blocks the loop that renews BullMQ locks; /metrics has the process's
// Prometheus metrics. It listens on loopback unless WORKER_HEALTH_HOST says otherwise, and /metrics needs
// METRICS_TOKEN when one is set.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Registry } from 'prom-client';

export interface WorkerHealth {
  port: number;
  close(): Promise<void>;
}

/** Where WORKER_HEALTH_PORT is unset the worker tries this port, then any free one (several workers on one host). */
export const DEFAULT_HEALTH_PORT = 3001;

/** An explicitly configured health port is taken: the worker says so in one line instead of a stack. */
export class HealthPortInUseError extends Error {
  override name = 'HealthPortInUseError';
  constructor(port: number, host: string) {
    super(`WORKER_HEALTH_PORT=${port} is already in use on ${host}: set WORKER_HEALTH_PORT to a free port, or 0 (or unset it) to pick one`);
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException) => {
      server.off('listening', done);
      reject(err.code === 'EADDRINUSE' ? new HealthPortInUseError(port, host) : err);
    };
    const done = () => {
      server.off('error', fail);
      resolve();
    };
    server.once('error', fail).once('listening', done);
    server.listen(port, host);
  });
}

/**
 * Checks, before the worker takes any job, that an explicitly configured port can be bound; throws
 * HealthPortInUseError when it cannot. Unset (undefined) or 0 always succeeds.
 */
export async function checkHealthPort(port: number | undefined, host: string): Promise<void> {
  if (!port) return;
  const probe = createServer();
  await listen(probe, port, host);
  await new Promise((resolve) => probe.close(resolve));
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * `port` undefined (WORKER_HEALTH_PORT unset): DEFAULT_HEALTH_PORT, or a free port when another worker has it; the
 * port taken is in the "worker started" log line. A number: exactly that port (0: a free one), HealthPortInUseError
 * when it is taken.
 */
export async function startHealthServer(
  port: number | undefined,
  host: string,
  activeJobs: () => number,
  metrics: Registry,
  metricsToken?: string,
): Promise<WorkerHealth> {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  const expected = metricsToken ? sha256(`Bearer ${metricsToken}`) : null;
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      if (expected && !timingSafeEqual(sha256(req.headers.authorization ?? ''), expected)) {
        const error = { code: 'ERR_UNAUTHORIZED', message: 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>' };
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error }));
        return;
      }
      metrics.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
      return;
    }
    if (req.url !== '/health') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'ERR_NOT_FOUND', message: 'not found' } }));
      return;
    }
    const body = {
      status: 'ok',
      activeJobs: activeJobs(),
      eventLoopDelayMs: { max: ms(delay.max), p99: ms(delay.percentile(99)), mean: ms(delay.mean) },
    };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  if (port !== undefined) await listen(server, port, host);
  else await listen(server, DEFAULT_HEALTH_PORT, host).catch((err: unknown) => {
    if (!(err instanceof HealthPortInUseError)) throw err;
    return listen(server, 0, host);
  });
  const address = server.address() as AddressInfo;
  return {
    port: address.port,
    close: () => {
      delay.disable();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
