// `npm start` and `npm run worker` started at once from one checkout each run `npm run build` (scripts/build.mjs):
// one builds, the other waits and finds it done, and neither reads the other's half-written output. Run on a copy
// of the checkout (node_modules linked) whose src/ is one small file, so the build here never touches the dist/
// other tests run from and does not depend on the rest of src/ compiling.
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const WASM_MODULES = ['src/engine/wasm/gemm-simd.wasm.ts', 'src/engine/wasm/gemm-relaxed.wasm.ts', 'src/engine/wasm/adam-shared.wasm.ts'];
/** Everything the build reads but src/, which is one small file using the generated client (and the wasm kernels). */
const COPIED = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'prisma.config.ts', 'prisma', 'scripts', 'assembly', 'public', ...WASM_MODULES];
const PROBE = `import { PrismaClient } from './generated/prisma/client.js';
import { GEMM_SIMD_WASM } from './engine/wasm/gemm-simd.wasm.js';
export const loaded = typeof PrismaClient === 'function' && GEMM_SIMD_WASM.length > 0;
`;

interface Run {
  code: number | null;
  output: string;
}

function run(cwd: string, command: string, args: string[]): Promise<Run> {
  const child = spawn(command, args, { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }, stdio: 'pipe' });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

/** What `npm start` / `npm run worker` do: build, then load what was built (here the probe, through the generated client). */
const buildAndLoad = (cwd: string) =>
  run(cwd, 'sh', ['-c', `node scripts/build.mjs && node --input-type=module -e "const m = await import('./dist/probe.js'); console.log(m.loaded ? 'loaded' : 'broken')"`]);

describe('concurrent builds from one checkout', () => {
  let checkout: string;

  beforeAll(async () => {
    checkout = await mkdtemp(join(tmpdir(), 'backprop-build-'));
    for (const entry of COPIED) {
      await cp(join(root, entry), join(checkout, entry), { recursive: true });
    }
    await writeFile(join(checkout, 'src/probe.ts'), PROBE);
    await symlink(join(root, 'node_modules'), join(checkout, 'node_modules'));
  });
  afterAll(async () => {
    if (checkout) await rm(checkout, { recursive: true, force: true });
  });

  it('two builds started together: one builds, the other waits for it and skips; both then load a complete dist/', async () => {
    const [a, b] = await Promise.all([buildAndLoad(checkout), buildAndLoad(checkout)]);
    for (const r of [a, b]) {
      expect(r.output).toContain('loaded');
      expect(r.code).toBe(0);
    }
    const outputs = [a.output, b.output];
    expect(outputs.filter((o) => o.includes('Generated Prisma Client'))).toHaveLength(1);
    const waiter = outputs.find((o) => o.includes('up to date (inputs unchanged'))!;
    expect(waiter).toMatch(/build: waiting for the build of process \d+/);
  });

  it('a later start with nothing changed skips the build; a changed source rebuilds', async () => {
    const again = await run(checkout, 'node', ['scripts/build.mjs']);
    expect(again.code).toBe(0);
    expect(again.output).toContain('build: up to date');
    expect(again.output).not.toContain('Generated Prisma Client');

    await writeFile(join(checkout, 'src/probe.ts'), `${PROBE}// edited\n`);
    const rebuilt = await run(checkout, 'node', ['scripts/build.mjs']);
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.output).toContain('Generated Prisma Client');
    expect(await readFile(join(checkout, 'dist/probe.js'), 'utf8')).toContain('// edited');
  });

  it("a lock left by a builder that died is taken over, not waited on forever", async () => {
    const { hostname } = await import('node:os');
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => dead.once('exit', r));
    await mkdir(join(checkout, '.build.lock'));
    await writeFile(join(checkout, '.build.lock', 'owner'), JSON.stringify({ pid: dead.pid, host: hostname() }));
    const r = await run(checkout, 'node', ['scripts/build.mjs']);
    expect(r.code).toBe(0);
    expect(r.output).toContain('build: up to date');
    expect(r.output).not.toContain('waiting for the build');
  });
});
