// Prints the gzipped JavaScript the home page loads first: the scripts index.html names and the
// chunks they import statically (lazy chunks — builder, charts, staff screens — are not counted).
// Fails when it is over the budget. Run after `npm run build`.
import { readFileSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const BUDGET = 250 * 1024;
const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
if (!existsSync(join(dist, 'index.html'))) {
  console.error('no dist/index.html: run `npm run build` first');
  process.exit(2);
}
const html = readFileSync(join(dist, 'index.html'), 'utf8');
if (/<script(?![^>]*\bsrc=)[^>]*>/i.test(html)) {
  console.error('index.html holds an inline script (the CSP forbids it)');
  process.exit(1);
}
const seen = new Set();
const queue = [...html.matchAll(/<script[^>]+src="\/?([^"]+)"/g)].map((m) => m[1]);
let total = 0;
while (queue.length) {
  const file = queue.shift();
  if (seen.has(file)) continue;
  seen.add(file);
  const code = readFileSync(join(dist, file));
  const gz = gzipSync(code, { level: 9 }).length;
  total += gz;
  console.log(`${(gz / 1024).toFixed(1).padStart(8)} KB  ${file}`);
  // Static imports only: `import ... from "./x.js"` or `import "./x.js"` (dynamic import() is lazy).
  for (const m of code.toString().matchAll(/(?:^|[;\n}])\s*import\s*(?:[^"'()]*?from\s*)?["']\.\/([^"']+\.js)["']/g)) {
    queue.push(join(dirname(file), m[1]));
  }
}
console.log(`home page first-load JavaScript: ${(total / 1024).toFixed(1)} KB gzipped (budget ${BUDGET / 1024} KB)`);
process.exit(total > BUDGET ? 1 : 0);
