// `npm run build` (and so `npm start`, `npm run worker`, `npm run dev`, `npm test`): the wasm kernels, the Prisma
// client, tsc into dist/ and the dashboard's vendored libraries. Safe to start several times at once from one
// checkout (the quick start's two terminals do):
// - one build at a time: a lock directory (mkdir is atomic) holds the builder's pid; the others wait for it, and a
//   lock whose builder died is taken over;
// - a build whose inputs (sources, schema, lockfile, configs, scripts) hash to what the last build recorded is
//   skipped, so the waiters find it done and start at once;
// - tsc writes into a fresh folder that replaces dist/ only once complete, so a process already running from dist/
//   (a worker starting training threads) never loads a half-written tree.
// `--force` builds even when nothing changed.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const LOCK = join(root, '.build.lock');
/** Guards taking over a dead builder's lock, so two waiters never both take it. */
const TAKEOVER = join(root, '.build.lock-takeover');
const STAMP = join(root, 'dist', '.build-inputs');
const INPUTS = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'prisma.config.ts', 'prisma/schema.prisma', 'scripts', 'assembly', 'src'];
/** Written by the build itself (src/engine/wasm/ is too, but from assembly/, so it is hashed like any source). */
const OUTPUTS = new Set(['src/generated']);
const force = process.argv.includes('--force');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (line) => console.error(`build: ${line}`);

async function filesUnder(path) {
  const info = await stat(join(root, path)).catch(() => null);
  if (!info) return [];
  if (!info.isDirectory()) return [path];
  if (OUTPUTS.has(path)) return [];
  const entries = await readdir(join(root, path));
  return (await Promise.all(entries.sort().map((e) => filesUnder(`${path}/${e}`)))).flat();
}

async function inputsHash() {
  const hash = createHash('sha256');
  for (const file of (await Promise.all(INPUTS.map(filesUnder))).flat()) hash.update(`${file}\0`).update(await readFile(join(root, file))).update('\0');
  return hash.digest('hex');
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** The lock's owner, or null when it is gone or was left by a builder that died (on this host). */
async function liveOwner() {
  const owner = await readFile(join(LOCK, 'owner'), 'utf8').then(JSON.parse, () => null);
  if (!owner) {
    // Between the lock's mkdir and its owner file, or a builder killed in that instant: old means dead.
    const made = await stat(LOCK).then((s) => s.mtimeMs, () => 0);
    return Date.now() - made < 10_000 ? { pid: 0 } : null;
  }
  return owner.host !== hostname() || alive(owner.pid) ? owner : null;
}

async function tryTakeOver() {
  try {
    await mkdir(TAKEOVER);
  } catch {
    const made = await stat(TAKEOVER).then((s) => s.mtimeMs, () => Date.now());
    if (Date.now() - made > 10_000) await rm(TAKEOVER, { recursive: true, force: true });
    return;
  }
  try {
    // Checked again under the guard: another waiter may have taken the lock over since we looked.
    if (!(await liveOwner())) await rm(LOCK, { recursive: true, force: true });
  } finally {
    await rm(TAKEOVER, { recursive: true, force: true });
  }
}

async function lock() {
  let announced = false;
  for (;;) {
    try {
      await mkdir(LOCK);
      await writeFile(join(LOCK, 'owner'), JSON.stringify({ pid: process.pid, host: hostname() }));
      return;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    const owner = await liveOwner();
    if (!owner) {
      await tryTakeOver();
      continue;
    }
    if (!announced && owner.pid) say(`waiting for the build of process ${owner.pid}${owner.host !== hostname() ? ` on ${owner.host}` : ''}`);
    announced ||= Boolean(owner.pid);
    await sleep(200);
  }
}

const unlock = () => rm(LOCK, { recursive: true, force: true });

function run(command, args, env = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (result.status !== 0) throw new Error(`${[command, ...args].map((a) => relative(root, a) || a).join(' ')} failed (exit ${result.status ?? result.signal})`);
}

async function build() {
  const bin = (name) => join(root, 'node_modules', '.bin', name);
  const fresh = join(root, `dist.building-${process.pid}`);
  const old = join(root, `dist.old-${process.pid}`);
  run(process.execPath, [join(root, 'scripts/build-wasm.mjs')]);
  // The schema engine is not needed to generate (and cannot be downloaded everywhere).
  run(bin('prisma'), ['generate'], { PRISMA_SCHEMA_ENGINE_BINARY: 'package.json' });
  await rm(fresh, { recursive: true, force: true });
  // Exit 2: type errors, but every file was emitted. Like a plain `tsc`, the tree is still used (so one broken file
  // does not stop everything else from running), and the build fails.
  const tsc = spawnSync(bin('tsc'), ['-p', 'tsconfig.build.json', '--outDir', fresh], { cwd: root, stdio: 'inherit' });
  try {
    if (tsc.status !== 0 && tsc.status !== 2) throw new Error(`tsc failed (exit ${tsc.status ?? tsc.signal})`);
    // Swapped in whole: a reader sees the old tree or the new one (for the instant between the renames, none).
    await rename(join(root, 'dist'), old).catch((err) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await rename(fresh, join(root, 'dist'));
  } finally {
    await rm(fresh, { recursive: true, force: true });
    await rm(old, { recursive: true, force: true });
  }
  run(process.execPath, [join(root, 'scripts/copy-vendor.mjs')]);
  if (tsc.status !== 0) throw new Error('tsc found type errors (dist/ was emitted all the same)');
}

await lock();
// Ctrl-C of `npm start` mid-build: leave no lock behind (a killed builder's lock is taken over all the same).
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    rmSync(LOCK, { recursive: true, force: true });
    process.exit(130);
  });
}
let failed = false;
try {
  // Left by a builder that was killed: no other builder runs while we hold the lock.
  for (const entry of await readdir(root)) if (/^dist\.(building|old)-\d+$/.test(entry)) await rm(join(root, entry), { recursive: true, force: true });
  const inputs = await inputsHash();
  const built = await readFile(STAMP, 'utf8').catch(() => '');
  const generated = await stat(join(root, 'src/generated/prisma')).then(() => true, () => false);
  if (!force && generated && built.trim() === inputs) {
    say('up to date (inputs unchanged since the last build)');
  } else {
    await build();
    // The hash of the inputs as they were before the build: a file edited during it makes the next build run.
    await writeFile(STAMP, `${inputs}\n`);
  }
} catch (err) {
  say(err.message);
  failed = true;
} finally {
  await unlock();
}
process.exit(failed ? 1 : 0);
