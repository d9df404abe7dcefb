// After `vite build`: a .gz and a .br copy of every text asset (the server sends them to browsers that accept them),
// and the first view's compressed JavaScript measured against the 200 KB budget (the build fails over it).
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const dist = fileURLToPath(new URL('../../dist/console', import.meta.url));
const assets = path.join(dist, 'assets');
const BUDGET = 200 * 1024;

for (const name of await readdir(assets)) {
  if (!/\.(js|css|svg|json)$/.test(name)) continue;
  const data = await readFile(path.join(assets, name));
  await writeFile(path.join(assets, `${name}.gz`), gzipSync(data, { level: 9 }));
  await writeFile(path.join(assets, `${name}.br`), brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
}

// The first view: the scripts index.html loads (the entry and what it preloads); lazily loaded views are not in it.
const html = await readFile(path.join(dist, 'index.html'), 'utf8');
const first = [...html.matchAll(/(?:src|href)="\/assets\/([^"]+\.js)"/g)].map((m) => m[1]);
let gz = 0;
let raw = 0;
for (const name of first) {
  const data = await readFile(path.join(assets, name));
  raw += data.length;
  gz += gzipSync(data, { level: 9 }).length;
}
console.log(`console: first view ${first.length} script(s), ${(raw / 1024).toFixed(1)} KB, ${(gz / 1024).toFixed(1)} KB gzip (budget ${BUDGET / 1024} KB)`);
if (gz > BUDGET) {
  console.error('console: the first view is over its budget of compressed JavaScript');
  process.exit(1);
}
