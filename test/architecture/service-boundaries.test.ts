// Import rules that keep the layers honest, checked rather than remembered.
import { readdir, readFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = fileURLToPath(new URL('../../src/', import.meta.url));

/** Every .ts file under `dir`, outside generated/ folders. */
async function sourceFiles(dir: string): Promise<string[]> {
  const files = await readdir(dir, { recursive: true, encoding: 'utf8' });
  return files.filter((f) => f.endsWith('.ts') && !f.split(sep).includes('generated')).map((f) => join(dir, f));
}

const importsOf = (text: string) => [...text.matchAll(/from '([^']+)'/g)].map((m) => m[1]);

describe('module boundaries', () => {
  it('only src/config reads process.env', async () => {
    for (const file of await sourceFiles(src)) {
      if (file.includes(`${join('src', 'config')}`)) continue;
      expect(await readFile(file, 'utf8'), file).not.toMatch(/process\.env/);
    }
  });

  it('the thread processor imports only the engine, contracts, the evaluation and bullmq types', async () => {
    const imports = importsOf(await readFile(join(src, 'worker/processor.ts'), 'utf8'));
    for (const spec of imports) expect(spec, spec).toMatch(/^(\.\.\/engine\/index\.js|\.\.\/contracts\/[\w-]+\.js|\.\.\/evaluation\/judge\.js|bullmq)$/);
  });

  it('outside src/engine, the engine is imported through its index only', async () => {
    for (const file of await sourceFiles(src)) {
      if (file.includes(join('src', 'engine'))) continue;
      for (const spec of importsOf(await readFile(file, 'utf8'))) {
        if (spec.includes('engine/')) expect(spec, file).toMatch(/engine\/index\.js$/);
      }
    }
  });
});
