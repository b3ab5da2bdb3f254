// `npm run dev`: the API and one worker as two child processes sharing this terminal; Ctrl-C stops both.
// Development defaults (src/config DEV_DEFAULTS): Postgres and Redis on their default local ports, the `backprop`
// database created when missing, and a random admin key printed once when ADMIN_API_KEY is unset. The API applies
// the migrations at start; the worker waits until they are applied.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConfigError, developmentEnv, loadConfig } from './config/index.js';
import { DatabaseUnreachableError, ensureDatabase } from './db/create-database.js';
import { redisAnswers } from './queue/connection.js';

/** Says what is wrong in one line and exits. */
function fail(line: string): never {
  console.error(`npm run dev: ${line}`);
  process.exit(1);
}

const { env, generatedAdminKey } = developmentEnv();
const config = (() => {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message.replace(/\n\s*/g, ' '));
    throw err;
  }
})();

try {
  if (await ensureDatabase(config.DATABASE_URL)) console.log(`npm run dev: created database ${new URL(config.DATABASE_URL).pathname.slice(1)}`);
} catch (err) {
  if (err instanceof DatabaseUnreachableError) {
    fail(`${err.message}: start one (\`docker run -d -p 5432:5432 -e POSTGRES_PASSWORD=postgres postgres:16\`, or your system's postgresql service), or set DATABASE_URL`);
  }
  fail(`Postgres refused (DATABASE_URL): ${(err as Error).message}`);
}
if (!(await redisAnswers(config.REDIS_URL))) {
  const url = new URL(config.REDIS_URL.split(',')[0]);
  fail(`no Redis answers at ${url.hostname}:${url.port || 6379} (REDIS_URL): start one (\`docker run -d -p 6379:6379 redis:7\`, or your system's redis service), or set REDIS_URL`);
}
if (generatedAdminKey) {
  console.log(`npm run dev: admin key for this run (ADMIN_API_KEY was unset; set it to keep one): ${generatedAdminKey}`);
}

const entry = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const children: ChildProcess[] = [entry('./server.js'), entry('./worker/main.js')].map((file) =>
  spawn(process.execPath, [file], { stdio: 'inherit', env }),
);

let stopping = false;
function stop(code: number): void {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  Promise.all(children.map((c) => new Promise((resolve) => (c.exitCode !== null ? resolve(null) : c.once('exit', resolve))))).then(
    () => process.exit(code),
  );
}
for (const child of children) child.once('exit', (code) => stop(code ?? 1));
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
