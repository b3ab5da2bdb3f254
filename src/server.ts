// `npm start`: applies pending migrations, builds the app and listens. The only place that listens.
import './runtime/wasm-flags.js';
import { buildApp } from './api/app.js';
import { ConfigError, loadConfig } from './config/index.js';
import { migrate } from './db/migrate.js';
import { installGemmBackend } from './runtime/gemm-backend.js';

/** A configuration the user has to fix is said in their terms, without a stack. */
function exitOnConfigError(err: unknown): never {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}

const config = (() => {
  try {
    return loadConfig();
  } catch (err) {
    exitOnConfigError(err);
  }
})();
if (config.MIGRATE_ON_START) {
  const applied = await migrate(config.DATABASE_URL);
  if (applied.length) console.log(JSON.stringify({ msg: 'applied migrations', applied }));
}
const app = await buildApp(config).catch(exitOnConfigError);
// The API shares its host with training workers: its forward passes get one OpenBLAS thread, never a pool.
app.log.info({ gemm: installGemmBackend(config.BACKPROP_NATIVE_GEMM, 1).description }, 'float32 matrix products');
await app.listen({ port: config.PORT, host: config.HOST });

let closing = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    // Bounded: a client that never finishes its request must not keep the process alive.
    setTimeout(() => {
      app.log.error({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutdown timed out; exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS).unref();
    // close() stops accepting connections, answers 503 to requests arriving on kept-alive ones, finishes the
    // in-flight requests and runs every onClose hook.
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
