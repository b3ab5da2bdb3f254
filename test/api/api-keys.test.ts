// API keys: random 256-bit secrets, stored only as sha256, several per tenant so they can be rotated, revocable;
// every tenant route needs the admin key.
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { ADMIN_KEY } from '../helpers/env.js';
import { auth } from '../helpers/fixtures.js';

describe('API keys', () => {
  const service = useTestService();
  const admin = auth(ADMIN_KEY);


  const datasets = (key: string) => request(service.app.server).get('/v1/datasets').set(auth(key));

  it('issues random keys of 256 bits and stores only their sha256', async () => {
    const tenants = await Promise.all([createTenant(service.app, 'a'), createTenant(service.app, 'b'), createTenant(service.app, 'c')]);
    for (const { apiKey } of tenants) {
      expect(apiKey).toMatch(/^bp_[A-Za-z0-9_-]{43}$/); // 32 random bytes, base64url
      expect(Buffer.from(apiKey.slice(3), 'base64url')).toHaveLength(32);
    }
    expect(new Set(tenants.map((t) => t.apiKey)).size).toBe(3);
    const rows = await service.app.db.apiKey.findMany();
    const stored = JSON.stringify(rows) + JSON.stringify(await service.app.db.tenant.findMany());
    for (const { apiKey } of tenants) expect(stored).not.toContain(apiKey.slice(10));
    for (const row of rows) expect(row.keyHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rotates: a second key works alongside the first until the first is revoked', async () => {
    const tenant = await createTenant(service.app, 'rotating');
    const created = await request(service.app.server).post(`/v1/tenants/${tenant.id}/keys`).set(admin);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ tenantId: tenant.id, revokedAt: null, prefix: created.body.apiKey.slice(0, 10) });
    const second = created.body.apiKey as string;
    expect((await datasets(tenant.apiKey)).status).toBe(200);
    expect((await datasets(second)).status).toBe(200);

    const list = await request(service.app.server).get(`/v1/tenants/${tenant.id}/keys`).set(admin);
    expect(list.status).toBe(200);
    expect(list.body.items.map((k: { id: string }) => k.id)).toEqual([tenant.keyId, created.body.id]);
    expect(JSON.stringify(list.body)).not.toContain(second);

    const revoked = await request(service.app.server).delete(`/v1/tenants/${tenant.id}/keys/${tenant.keyId}`).set(admin);
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ id: tenant.keyId, revokedAt: expect.any(String) });
    const old = await datasets(tenant.apiKey);
    expect(old.status).toBe(401);
    expect(old.body.error).toMatchObject({ code: 'ERR_UNAUTHORIZED', message: expect.stringContaining('revoked') });
    expect((await datasets(second)).status).toBe(200);

    // Revoking again changes nothing; the first revocation time stays.
    const again = await request(service.app.server).delete(`/v1/tenants/${tenant.id}/keys/${tenant.keyId}`).set(admin);
    expect(again.body.revokedAt).toBe(revoked.body.revokedAt);
  });

  it("answers 404 for an unknown tenant or another tenant's key", async () => {
    const a = await createTenant(service.app, 'a2');
    const b = await createTenant(service.app, 'b2');
    const missing = '00000000-0000-4000-8000-000000000000';
    expect((await request(service.app.server).post(`/v1/tenants/${missing}/keys`).set(admin)).status).toBe(404);
    expect((await request(service.app.server).get(`/v1/tenants/${missing}/keys`).set(admin)).status).toBe(404);
    const cross = await request(service.app.server).delete(`/v1/tenants/${b.id}/keys/${a.keyId}`).set(admin);
    expect(cross.status).toBe(404);
    expect((await datasets(a.apiKey)).status).toBe(200);
  });

  it('needs the admin key on every tenant route', async () => {
    const tenant = await createTenant(service.app, 'plain');
    const routes = [
      () => request(service.app.server).post('/v1/tenants').send({ name: 'x' }),
      () => request(service.app.server).get(`/v1/tenants/${tenant.id}/keys`),
      () => request(service.app.server).post(`/v1/tenants/${tenant.id}/keys`),
      () => request(service.app.server).delete(`/v1/tenants/${tenant.id}/keys/${tenant.keyId}`),
    ];
    for (const route of routes) {
      const asTenant = await route().set(auth(tenant.apiKey));
      expect(asTenant.status).toBe(403);
      expect(asTenant.body.error.code).toBe('ERR_FORBIDDEN');
      expect((await route()).status).toBe(401);
    }
    expect((await datasets(tenant.apiKey)).status).toBe(200);
  });
});
