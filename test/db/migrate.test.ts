// The hand-written migrations must produce exactly what schema.prisma describes, and be recorded the way
// `prisma migrate deploy` records them.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, readMigrations } from '../../src/db/migrate.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';

const PG_TYPES: Record<string, string> = {
  String: 'text',
  Int: 'integer',
  BigInt: 'bigint',
  Float: 'double precision',
  DateTime: 'timestamp without time zone',
  Json: 'jsonb',
  Bytes: 'bytea',
};

interface ExpectedColumn {
  table: string;
  column: string;
  type: string;
  nullable: boolean;
}

/** A deliberately small reader of schema.prisma: models, their scalar fields, enums, @unique/@@index/@@id. */
async function readSchema() {
  const text = await readFile(new URL('../../prisma/schema.prisma', import.meta.url), 'utf8');
  const enums = [...text.matchAll(/^enum (\w+) \{([^}]*)\}/gm)].map((m) => ({ name: m[1], values: m[2].trim().split(/\s+/) }));
  const enumNames = new Set(enums.map((e) => e.name));
  const models = [...text.matchAll(/^model (\w+) \{([\s\S]*?)\n\}/gm)].map((m) => ({ name: m[1], body: m[2] }));
  const modelNames = new Set(models.map((m) => m.name));
  const columns: ExpectedColumn[] = [];
  const indexes: string[] = [];
  /** "<constraint> ON DELETE <rule>" per relation that holds the foreign key. */
  const foreignKeys: string[] = [];
  for (const model of models) {
    for (const line of model.body.split('\n').map((l) => l.trim())) {
      if (!line || line.startsWith('//')) continue;
      const block = /^@@(id|index|unique)\(\[([^\]]*)\]/.exec(line);
      if (block) {
        const fields = block[2].split(',').map((f) => f.trim());
        const suffix = { id: 'pkey', index: 'idx', unique: 'key' }[block[1] as 'id' | 'index' | 'unique'];
        indexes.push(block[1] === 'id' ? `${model.name}_pkey` : `${model.name}_${fields.join('_')}_${suffix}`);
        continue;
      }
      const field = /^(\w+)\s+(\w+)(\[\]|\?)?\s*(.*)$/.exec(line);
      if (!field) continue;
      const [, name, type, modifier, attrs] = field;
      if (modelNames.has(type)) {
        // A relation field, no column; the side with fields: [...] holds a foreign key, named as Prisma names it.
        const relation = /@relation\((?:"\w+",\s*)?fields:\s*\[([^\]]*)\][^)]*?(?:onDelete:\s*(\w+))?\)/.exec(attrs);
        if (relation) {
          const fields = relation[1].split(',').map((f) => f.trim());
          // Prisma's defaults: SetNull for an optional relation, Restrict for a required one.
          const action = relation[2] ?? (modifier === '?' ? 'SetNull' : 'Restrict');
          const rule = { Cascade: 'CASCADE', SetNull: 'SET NULL', Restrict: 'RESTRICT', NoAction: 'NO ACTION', SetDefault: 'SET DEFAULT' }[action];
          foreignKeys.push(`${model.name}_${fields.join('_')}_fkey ON DELETE ${rule}`);
        }
        continue;
      }
      const pgType = enumNames.has(type) ? 'USER-DEFINED' : attrs.includes('@db.Uuid') ? 'uuid' : PG_TYPES[type];
      columns.push({ table: model.name, column: name, type: pgType, nullable: modifier === '?' });
      if (attrs.includes('@id')) indexes.push(`${model.name}_pkey`);
      if (attrs.includes('@unique')) indexes.push(`${model.name}_${name}_key`);
    }
  }
  return { enums, columns, indexes, foreignKeys };
}

describe('migrations', () => {
  let db: TestDatabase;
  let client: pg.Client;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await db?.drop();
  });

  it('applies each migration once, even when two processes migrate at the same time', async () => {
    const [a, b] = await Promise.all([migrate(db.url), migrate(db.url)]);
    const files = await readMigrations();
    expect([...a, ...b].sort()).toEqual(files.map((f) => f.name));
    expect(await migrate(db.url)).toEqual([]);
  });

  it('records migrations in _prisma_migrations as Prisma does', async () => {
    const files = await readMigrations();
    const { rows } = await client.query('SELECT * FROM "_prisma_migrations" ORDER BY migration_name');
    expect(rows).toHaveLength(files.length);
    for (const [i, file] of files.entries()) {
      const sql = await readFile(new URL(`../../prisma/migrations/${file.name}/migration.sql`, import.meta.url));
      expect(rows[i]).toMatchObject({
        migration_name: file.name,
        checksum: createHash('sha256').update(sql).digest('hex'),
        applied_steps_count: 1,
        rolled_back_at: null,
        logs: null,
      });
      expect(rows[i].id).toMatch(/^[0-9a-f-]{36}$/);
      expect(rows[i].finished_at).toBeInstanceOf(Date);
    }
    const { rows: cols } = await client.query(
      `SELECT column_name, data_type, is_nullable, character_maximum_length FROM information_schema.columns
       WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(cols.map((c) => [c.column_name, c.data_type, c.is_nullable, c.character_maximum_length])).toEqual([
      ['id', 'character varying', 'NO', 36],
      ['checksum', 'character varying', 'NO', 64],
      ['finished_at', 'timestamp with time zone', 'YES', null],
      ['migration_name', 'character varying', 'NO', 255],
      ['logs', 'text', 'YES', null],
      ['rolled_back_at', 'timestamp with time zone', 'YES', null],
      ['started_at', 'timestamp with time zone', 'NO', null],
      ['applied_steps_count', 'integer', 'NO', null],
    ]);
  });

  it('creates exactly the tables, columns, enums and indexes of schema.prisma', async () => {
    const schema = await readSchema();
    const { rows } = await client.query(
      `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`,
    );
    const actual = rows.map((r) => ({ table: r.table_name, column: r.column_name, type: r.data_type, nullable: r.is_nullable === 'YES' }));
    const key = (c: ExpectedColumn) => `${c.table}.${c.column}`;
    expect([...actual].sort((x, y) => key(x).localeCompare(key(y)))).toEqual([...schema.columns].sort((x, y) => key(x).localeCompare(key(y))));

    for (const e of schema.enums) {
      const { rows: labels } = await client.query(
        `SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = $1 ORDER BY e.enumsortorder`,
        [e.name],
      );
      expect(labels.map((l) => l.enumlabel)).toEqual(e.values);
    }
    const { rows: idx } = await client.query(`SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'`);
    expect(idx.map((i) => i.indexname).sort()).toEqual([...new Set(schema.indexes)].sort());

    // What a delete does to the rows that refer to the deleted one (onDelete in schema.prisma).
    const { rows: fks } = await client.query(
      `SELECT conname, CASE confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'r' THEN 'RESTRICT'
         WHEN 'a' THEN 'NO ACTION' ELSE 'SET DEFAULT' END AS rule
       FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace`,
    );
    expect(fks.map((f) => `${f.conname} ON DELETE ${f.rule}`).sort()).toEqual([...schema.foreignKeys].sort());
  });

  it('refuses to run when an applied migration was edited', async () => {
    await client.query(`UPDATE "_prisma_migrations" SET checksum = 'x' WHERE migration_name = (SELECT min(migration_name) FROM "_prisma_migrations")`);
    await expect(migrate(db.url)).rejects.toThrow(/edited after it was applied/);
  });
});
