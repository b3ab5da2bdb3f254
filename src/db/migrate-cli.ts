// `npm run migrate`: applies pending migrations to DATABASE_URL.
import { loadConfig } from '../config/index.js';
import { migrate } from './migrate.js';

const config = loadConfig();
const applied = await migrate(config.DATABASE_URL);
console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
