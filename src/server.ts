// `npm start`: applies pending migrations, builds the app and listens. The only place that listens.
import './runtime/wasm-flags.js';
import { buildApp } from './api/app.js';
import { loadConfig } from './config/index.js';
import { migrate } from './db/migrate.js';

const config = loadConfig();
if (config.MIGRATE_ON_START) {
  const applied = await migrate(config.DATABASE_URL);
  if (applied.length) console.log(JSON.stringify({ msg: 'applied migrations', applied }));
}
const app = await buildApp(config);
await app.listen({ port: config.PORT, host: config.HOST });

let closing = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    // close() stops accepting connections, finishes in-flight requests and runs every onClose hook.
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
