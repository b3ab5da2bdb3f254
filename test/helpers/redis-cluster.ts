// A private Redis Cluster of three masters on loopback ports, from Debian's redis-server in cluster mode and
// `redis-cli --cluster create`: a real cluster, with slots spread over three processes.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import { freePort, waitFor } from './processes.js';

export interface PrivateCluster {
  /** host:port of every master, as REDIS_CLUSTER_NODES takes them. */
  nodes: string[];
  /** Each master's keys, to see that a run's keys landed in one slot. */
  keysPerNode(pattern: string): Promise<string[][]>;
  stop(): Promise<void>;
}

export async function startRedisCluster(masters = 3): Promise<PrivateCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'redis-cluster-'));
  const children: ChildProcess[] = [];
  const nodes: string[] = [];
  for (let i = 0; i < masters; i++) {
    const [port, busPort] = [await freePort(), await freePort()];
    // prettier-ignore
    const args = ['--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
      '--cluster-config-file', `nodes-${port}.conf`, '--dir', dir, '--save', '', '--appendonly', 'no'];
    children.push(spawn('redis-server', args, { stdio: 'ignore' }));
    nodes.push(`127.0.0.1:${port}`);
  }
  const ping = (node: string) => spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', node.split(':')[1], 'ping'], { encoding: 'utf8' }).stdout.trim();
  await waitFor('the cluster nodes to listen', () => nodes.every((node) => ping(node) === 'PONG'), 10_000, 50);
  const created = spawnSync('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' });
  if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
  const state = (node: string) => spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', node.split(':')[1], 'cluster', 'info'], { encoding: 'utf8' }).stdout;
  await waitFor('the cluster to be ok', () => nodes.every((node) => state(node).includes('cluster_state:ok')), 20_000, 100);

  return {
    nodes,
    async keysPerNode(pattern) {
      const cluster = new Cluster(nodes.map((n) => ({ host: '127.0.0.1', port: Number(n.split(':')[1]) })));
      try {
        await new Promise((resolve) => cluster.once('ready', resolve));
        return await Promise.all(cluster.nodes('master').map((node) => node.keys(pattern)));
      } finally {
        cluster.disconnect();
      }
    },
    async stop() {
      await Promise.all(
        children.map((child) =>
          child.exitCode !== null || child.signalCode !== null ? null : new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGKILL'))),
        ),
      );
      await rm(dir, { recursive: true, force: true });
    },
  };
}
