// Webhooks go to public addresses only (src/webhook-target.ts): a job's webhookUrl is the tenant's choice, and the
// worker POSTs from inside our network, so loopback (Redis, Postgres, our own API), private ranges and link-local
// (cloud metadata at 169.254.169.254) must be out of reach. An address written in the URL is refused when the job is
// submitted; a host name that resolves to such an address is refused when the worker connects, and the delivery
// fails at once without reaching the receiver.
import { lookup } from 'node:dns/promises';
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nonPublicRange, refusedHost } from '../../src/webhook-target.js';
import { createTenant, useTestService } from '../helpers/app.js';
import { auth, irisNetwork } from '../helpers/fixtures.js';
import { uploadIris, waitForJob } from '../helpers/jobs.js';
import { waitFor } from '../helpers/processes.js';

describe('webhook targets', () => {
  it('tells public unicast addresses from every other range, IPv4-mapped IPv6 included', () => {
    const refused: Record<string, string> = {
      '127.0.0.1': 'loopback',
      '10.1.2.3': 'private',
      '172.16.0.1': 'private',
      '192.168.1.1': 'private',
      '169.254.169.254': 'linkLocal',
      '100.64.0.1': 'carrierGradeNat',
      '0.0.0.0': 'unspecified',
      '224.0.0.1': 'multicast',
      '::1': 'loopback',
      '::': 'unspecified',
      '::ffff:127.0.0.1': 'loopback',
      '::ffff:10.0.0.1': 'private',
      'fd00::1': 'uniqueLocal',
      'fe80::1': 'linkLocal',
      '64:ff9b::7f00:1': 'rfc6052',
    };
    for (const [address, range] of Object.entries(refused)) expect(nonPublicRange(address), address).toBe(range);
    for (const address of ['8.8.8.8', '1.1.1.1', '2606:4700::1111']) expect(nonPublicRange(address), address).toBeNull();
    expect(refusedHost('http://localhost:8080/hook')).toBe('localhost is a loopback name');
    expect(refusedHost('https://[::1]/hook')).toBe('::1 is a loopback address');
    expect(refusedHost('http://8.8.8.8/hook')).toBeNull();
    // Names are left to the connection-time check: only DNS can tell.
    expect(refusedHost('https://hooks.example.com/x')).toBeNull();
  });

  describe('with the service', () => {
    const service = useTestService({ env: { WEBHOOK_MAX_ATTEMPTS: '5', WEBHOOK_BACKOFF_MS: '100' }, worker: true });
    let key: string;
    let irisId: string;
    let receiver: Server;
    let port: number;
    const hits: string[] = [];

    beforeAll(async () => {
      key = (await createTenant(service.app)).apiKey;
      irisId = await uploadIris(service.app, key);
      receiver = createServer((req, res) => {
        hits.push(req.url ?? '');
        res.end('ok');
      });
      await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
      port = (receiver.address() as { port: number }).port;
    });
    afterAll(async () => {
      await new Promise((r) => receiver?.close(r));
    });

    const submit = (webhookUrl: string) =>
      request(service.app.server).post('/v1/jobs').set(auth(key)).send({ datasetId: irisId, model: irisNetwork, training: { epochs: 2, seed: 1 }, webhookUrl });

    it('answers 400 naming body.webhookUrl for a loopback, private or link-local address in the URL', async () => {
      const cases: [string, string][] = [
        [`http://127.0.0.1:${port}/hook`, '127.0.0.1 is a loopback address'],
        [`http://localhost:${port}/hook`, 'localhost is a loopback name'],
        [`http://[::1]:${port}/hook`, '::1 is a loopback address'],
        [`http://[::ffff:127.0.0.1]:${port}/hook`, '::ffff:7f00:1 (127.0.0.1) is a loopback address'],
        ['http://169.254.169.254/latest/meta-data/', '169.254.169.254 is a linkLocal address'],
        ['http://10.0.0.5/hook', '10.0.0.5 is a private address'],
      ];
      for (const [url, reason] of cases) {
        const res = await submit(url);
        expect(res.status, url).toBe(400);
        expect(res.body.error).toMatchObject({ code: 'ERR_VALIDATION', details: { field: 'body.webhookUrl' } });
        expect(res.body.error.message, url).toBe(`body.webhookUrl: expected a public address; ${reason} (allowed only with WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true)`);
      }
      expect((await request(service.app.server).get('/v1/jobs').set(auth(key))).body.items).toHaveLength(0);
    });

    it('refuses at connection time a host name that resolves to loopback: the delivery fails at once, unsent', async () => {
      // This machine's own name resolves to a loopback address (/etc/hosts), as a name an attacker controls could.
      const name = hostname();
      const resolved = await lookup(name, { all: true });
      expect(resolved.some((a) => nonPublicRange(a.address) === 'loopback')).toBe(true);

      const job = await submit(`http://${name}:${port}/hook`);
      expect(job.status).toBe(202);
      await waitForJob(service.app, key, job.body.id, (j) => j.status === 'succeeded', 'the job to succeed', 30_000);
      const delivery = await waitFor('the delivery to settle', async () => {
        const items = (await request(service.app.server).get(`/v1/jobs/${job.body.id}/webhooks`).set(auth(key))).body.items;
        return items.length === 1 && items[0].status !== 'pending' ? items[0] : undefined;
      }, 30_000);
      expect(delivery).toMatchObject({ status: 'failed', attempts: 1, responseStatus: null, deliveredAt: null });
      // The tenant learns that the address is not allowed, not what our resolver answered (the log keeps that).
      expect(delivery.lastError).toBe('refused: address not allowed (webhooks go to public addresses only)');
      for (const { address } of resolved) expect(delivery.lastError).not.toContain(address);
      expect(hits).toEqual([]);
    });
  });
});
