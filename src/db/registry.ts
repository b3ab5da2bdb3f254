// The model registry: names, their numbered versions (models) and aliases. A version number is handed out by an
// upsert on the name's row, which locks it until the registering transaction ends: two models registered under one
// name at the same time get consecutive versions, and a version exists exactly when its model does.
import type { Evaluation } from '../contracts/evaluation.js';
import type { RegisteredModelView } from '../contracts/registry.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { Db } from './client.js';

type Tx = Db | Prisma.TransactionClient;

/**
 * Registers `modelId` as the next version of `name` and returns the version; call it in the transaction that stores
 * the model (recordFinal, import), so the model and its version are committed together or not at all.
 */
export async function registerVersion(tx: Tx, tenantId: string, name: string, modelId: string): Promise<number> {
  const [{ version }] = await tx.$queryRaw<{ version: number }[]>`
    INSERT INTO "RegisteredModel" ("tenantId", "name", "latestVersion") VALUES (${tenantId}::uuid, ${name}, 1)
    ON CONFLICT ("tenantId", "name") DO UPDATE SET "latestVersion" = "RegisteredModel"."latestVersion" + 1
    RETURNING "latestVersion" AS version`;
  await tx.modelVersion.create({ data: { tenantId, name, version, modelId } });
  return version;
}

/** Which version a predict by name uses. */
export type Resolved =
  | { found: true; modelId: string; version: number }
  | { found: false; missing: 'name' | 'alias' | 'version' | 'versions' };

/** created: the alias did not exist before (PUT answers 201), rather than being moved. */
export type AliasChange = { found: true; modelId: string; created: boolean } | { found: false; missing: 'name' | 'version' };

const aliasMap = (rows: { alias: string; version: number }[]) => Object.fromEntries(rows.map((a) => [a.alias, a.version]));

export function registryRepository(db: Db) {
  return {
    async list(tenantId: string) {
      const rows = await db.registeredModel.findMany({
        where: { tenantId },
        orderBy: { name: 'asc' },
        include: { _count: { select: { versions: true } }, versions: { select: { aliases: { select: { alias: true, version: true } } } } },
      });
      return rows.map((r) => ({
        name: r.name,
        latestVersion: r.latestVersion,
        versions: r._count.versions,
        aliases: aliasMap(r.versions.flatMap((v) => v.aliases).sort((a, b) => a.alias.localeCompare(b.alias))),
        createdAt: r.createdAt.toISOString(),
      }));
    },
    async get(tenantId: string, name: string): Promise<RegisteredModelView | null> {
      const row = await db.registeredModel.findUnique({
        where: { tenantId_name: { tenantId, name } },
        include: {
          versions: {
            orderBy: { version: 'asc' },
            include: { model: { select: { evaluation: true } }, aliases: { select: { alias: true, version: true }, orderBy: { alias: 'asc' } } },
          },
        },
      });
      if (!row) return null;
      return {
        name: row.name,
        latestVersion: row.latestVersion,
        createdAt: row.createdAt.toISOString(),
        versions: row.versions.map((v) => ({
          version: v.version,
          modelId: v.modelId,
          createdAt: v.createdAt.toISOString(),
          evaluation: (v.model.evaluation as Evaluation | null) ?? null,
        })),
        aliases: aliasMap(row.versions.flatMap((v) => v.aliases)),
      };
    },
    /** Points `alias` at `version` of `name` (creating or moving it). */
    async setAlias(tenantId: string, name: string, alias: string, version: number): Promise<AliasChange> {
      const target = await db.modelVersion.findUnique({ where: { tenantId_name_version: { tenantId, name, version } }, select: { modelId: true } });
      if (!target) {
        const named = await db.registeredModel.findUnique({ where: { tenantId_name: { tenantId, name } }, select: { name: true } });
        return { found: false, missing: named ? 'version' : 'name' };
      }
      // A version deleted between the two statements fails the foreign key: that is a 404 as well.
      // One statement that says whether it inserted: xmax is 0 on a row version no UPDATE has touched.
      try {
        const [{ created }] = await db.$queryRaw<{ created: boolean }[]>`
          INSERT INTO "ModelAlias" ("tenantId", "name", "alias", "version", "updatedAt")
          VALUES (${tenantId}::uuid, ${name}, ${alias}, ${version}, now())
          ON CONFLICT ("tenantId", "name", "alias") DO UPDATE SET "version" = EXCLUDED."version", "updatedAt" = now()
          RETURNING (xmax = 0) AS created`;
        return { found: true, modelId: target.modelId, created };
      } catch (err) {
        if ((err as { code?: string }).code === 'P2010' && /23503|foreign key/i.test(String((err as Error).message))) return { found: false, missing: 'version' };
        throw err;
      }
    },
    /** False when the name has no such alias. */
    async deleteAlias(tenantId: string, name: string, alias: string): Promise<boolean> {
      const { count } = await db.modelAlias.deleteMany({ where: { tenantId, name, alias } });
      return count > 0;
    },
    /**
     * The model behind a name: the given version, the given alias, or by default the `production` alias when set,
     * else the latest version. Read from Postgres on every call (one indexed lookup), so an alias moved through any
     * API process takes effect on all of them at once.
     */
    async resolve(tenantId: string, name: string, by: { alias?: string; version?: number }): Promise<Resolved> {
      if (by.version !== undefined) {
        const row = await db.modelVersion.findUnique({ where: { tenantId_name_version: { tenantId, name, version: by.version } }, select: { modelId: true, version: true } });
        if (row) return { found: true, ...row };
      } else {
        const alias = await db.modelAlias.findUnique({
          where: { tenantId_name_alias: { tenantId, name, alias: by.alias ?? 'production' } },
          select: { target: { select: { modelId: true, version: true } } },
        });
        if (alias) return { found: true, ...alias.target };
        if (by.alias === undefined) {
          const latest = await db.modelVersion.findFirst({ where: { tenantId, name }, orderBy: { version: 'desc' }, select: { modelId: true, version: true } });
          if (latest) return { found: true, ...latest };
        }
      }
      const named = await db.registeredModel.findUnique({ where: { tenantId_name: { tenantId, name } }, select: { name: true } });
      if (!named) return { found: false, missing: 'name' };
      return { found: false, missing: by.version !== undefined ? 'version' : by.alias !== undefined ? 'alias' : 'versions' };
    },
    async exists(tenantId: string, name: string): Promise<boolean> {
      return (await db.registeredModel.findUnique({ where: { tenantId_name: { tenantId, name } }, select: { name: true } })) !== null;
    },
    aliasesPointingTo: (tenantId: string, modelId: string) => aliasesPointingTo(db, tenantId, modelId),
  };
}
export type RegistryRepository = ReturnType<typeof registryRepository>;

/**
 * The aliases that point to a model, as "name@alias" (e.g. ["iris@production"]); empty when none does. DELETE
 * /v1/models/:id answers 409 naming them while there are any. In a transaction, the model's version row stays locked
 * until it ends: an alias set meanwhile waits for it (its foreign key check needs that row), so a delete that found
 * no alias never removes one set in between; the alias is refused once the version is gone.
 */
export async function aliasesPointingTo(tx: Tx, tenantId: string, modelId: string): Promise<string[]> {
  await tx.$queryRaw`SELECT "version" FROM "ModelVersion" WHERE "tenantId" = ${tenantId}::uuid AND "modelId" = ${modelId}::uuid FOR UPDATE`;
  const rows = await tx.modelAlias.findMany({
    where: { tenantId, target: { modelId } },
    select: { name: true, alias: true },
    orderBy: [{ name: 'asc' }, { alias: 'asc' }],
  });
  return rows.map((r) => `${r.name}@${r.alias}`);
}
