// Shared pieces of the browser tests: the stack's addresses, API set-up through Node's fetch (the
// tests make their own data), staff promotion through the marketplace CLI, the axe check, the
// screenshots and the layout checks.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHmac, randomBytes } from 'node:crypto';

const require = createRequire(import.meta.url);
export const WEB_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const BASE = (process.env.MARKETPLACE_BASE_URL ?? '').replace(/\/+$/, '');
export const API = `${BASE}/api/marketplace`;
export const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR ?? join(WEB_DIR, 'test-results', 'screenshots');
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** KEY=value lines of the stack's stack.env (scripts/stack), when the stack directory is known. */
export function stackEnv() {
  const dir = process.env.MARKETPLACE_STACK_DIR;
  const file = dir ? join(dir, 'stack.env') : null;
  if (!file || !existsSync(file)) return {};
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

export const unique = (prefix) => `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
export const PASSWORD = 'correct horse battery';

export async function call(method, path, token, body, headers = {}) {
  const res = await fetch(API + path, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : undefined;
  if (!res.ok) throw new Error(`${method} ${path} -> ${res.status}: ${text}`);
  return json;
}

/** A fresh account through the API (token sessions: the test process, not the page, holds them). */
export async function apiUser(name) {
  const email = `${unique(name.toLowerCase().replace(/[^a-z0-9]+/g, '-'))}@example.com`;
  const r = await call('POST', '/auth/register', null, { email, password: PASSWORD, display_name: name });
  return { email, token: r.token, id: r.user.id, name };
}

/** Grants a role with `marketplace user grant` (what the C tests' fixture_staff runs). */
export function grantRole(email, role) {
  const env = stackEnv();
  const bin = process.env.MARKETPLACE_BIN ?? env.MKT_BIN;
  const conf = process.env.MARKETPLACE_CONFIG ?? env.MKT_CONFIG;
  if (!bin || !conf) return false;
  execFileSync(bin, ['--config', conf, 'user', 'grant', email, role], { stdio: 'pipe' });
  return true;
}

/** Signs a payment event like the provider (for a stack without the test-mode provider page). */
export async function sendPaymentSucceeded(txn) {
  const secret = stackEnv().MKT_WEBHOOK_SECRET;
  if (!secret) throw new Error('no checkout page and no MARKETPLACE_STACK_DIR to sign the webhook with');
  const body = JSON.stringify({
    id: unique('evt'),
    type: 'payment.succeeded',
    created: Math.floor(Date.now() / 1000),
    data: { transaction_id: txn.id, amount_cents: txn.amount_cents, currency: txn.currency },
  });
  const t = Math.floor(Date.now() / 1000);
  const sig = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  const res = await fetch(`${API}/webhooks/payments`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Marketplace-Signature': `t=${t},v1=${sig}` },
    body,
  });
  if (!res.ok) throw new Error(`webhook -> ${res.status}: ${await res.text()}`);
}

/** Does BASE serve the web app (nginx with web/dist)? Otherwise the runner serves dist itself. */
export async function servesApp(base) {
  try {
    const res = await fetch(`${base}/`);
    const html = res.ok ? await res.text() : '';
    return html.includes('<div id="root">') && html.includes('src="/assets/');
  } catch {
    return false;
  }
}

/** `vite preview` of web/dist on a free port, proxying /api to BASE. */
export async function startPreview() {
  if (!existsSync(join(WEB_DIR, 'dist', 'index.html'))) execFileSync('npm', ['run', 'build'], { cwd: WEB_DIR, stdio: 'inherit' });
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(join(WEB_DIR, 'node_modules', '.bin', 'vite'), ['preview', '--port', String(port), '--strictPort', '--host', '127.0.0.1'], {
    cwd: WEB_DIR,
    env: { ...process.env, MARKETPLACE_API: BASE },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (await servesApp(url)) return { url, stop: () => child.kill('SIGTERM') };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGTERM');
  throw new Error('vite preview did not start');
}

/** axe-core in the page; serious and critical violations fail the test. Injected through the
 * debugger protocol (page.evaluate), which the page's CSP does not govern. */
export async function axeCheck(page, screen) {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length) throw new Error(`axe on ${screen}: ${JSON.stringify(bad, null, 1)}`);
  return result.length;
}

/** Screenshots at 390 and 1280 px, and no horizontal scrolling at either width. */
export async function shoot(page, screen) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    await page.waitForTimeout(150);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    if (overflow > 1) {
      const culprit = await page.evaluate(() => {
        const w = document.documentElement.clientWidth;
        const el = [...document.querySelectorAll('body *')].find((e) => e.getBoundingClientRect().right > w + 1);
        return el ? `${el.tagName.toLowerCase()}.${el.className}` : '?';
      });
      throw new Error(`${screen} scrolls sideways at ${width} px by ${overflow} px (${culprit})`);
    }
    await page.screenshot({ path: join(SCREENSHOT_DIR, `${screen}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

/** Failure screenshots of an earlier run would read as this run's. */
export function clearFailureShots() {
  if (!existsSync(SCREENSHOT_DIR)) return;
  for (const f of readdirSync(SCREENSHOT_DIR)) if (f.startsWith('failure-')) rmSync(join(SCREENSHOT_DIR, f));
}
