// The worker's own tiny health endpoint. It reports the event-loop delay so operators (and the tests) can see
// that training in worker threads never blocks the loop that renews BullMQ locks; /metrics has the process's
// Prometheus metrics.
import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Registry } from 'prom-client';

export interface WorkerHealth {
  port: number;
  close(): Promise<void>;
}

export async function startHealthServer(port: number, host: string, activeJobs: () => number, metrics: Registry): Promise<WorkerHealth> {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
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
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: () => {
      delay.disable();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
