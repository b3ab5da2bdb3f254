// Copies the dashboard's browser libraries from node_modules into public/vendor/, so the page is served as static
// files with no bundler and no CDN (the API's CSP allows only 'self'). Run by `npm run build`; the copies are
// committed, so the dashboard works from a checkout too.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const vendor = join(root, 'public', 'vendor');
const uplot = dirname(createRequire(import.meta.url).resolve('uplot/package.json', { paths: [root] }));
const { version } = JSON.parse(await readFile(join(uplot, 'package.json'), 'utf8'));

const files = {
  'uPlot.esm.js': await readFile(join(uplot, 'dist/uPlot.esm.js')),
  'uPlot.min.css': await readFile(join(uplot, 'dist/uPlot.min.css')),
  'uPlot.LICENSE': await readFile(join(uplot, 'LICENSE')),
  VERSIONS: Buffer.from(`uplot ${version}\n`),
};

await mkdir(vendor, { recursive: true });
for (const [name, content] of Object.entries(files)) {
  const target = join(vendor, name);
  // Write only on change, so a build leaves the committed copies untouched.
  const current = await readFile(target).catch(() => null);
  if (!current?.equals(content)) await writeFile(target, content);
}
