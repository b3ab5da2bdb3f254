// Configuration of the Prisma CLI only (generate, validate, migrate deploy on machines with the schema engine).
// The application never reads this file: src/config is its only reader of the environment.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  // generate needs no database, so an unset DATABASE_URL must not fail it.
  datasource: { url: process.env.DATABASE_URL ?? '' },
});
