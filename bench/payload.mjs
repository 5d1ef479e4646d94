// What each page costs a first-time visitor: the WASM, JS and CSS bytes as
// transferred (brotli, from the release build's precompressed files) until the page
// is interactive, for a hard load of each route in a fresh browser context, in
// Debian's Chromium. Signed-in pages are loaded as an administrator.
// Prints one JSON line: {route: {bytes, files, interactive_ms}, ...}.
// Usage: node bench/payload.mjs BASE_URL ADMIN_EMAIL ADMIN_PASSWORD
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'end2end', 'package.json'));
const { chromium } = require('@playwright/test');

const [base, email, password] = process.argv.slice(2);
const routes = [
  ['/', false], ['/login', false], ['/register', false],
  ['/account', true], ['/admin/users', true], ['/admin/audit', true],
];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});

const result = {};
for (const [route, signedIn] of routes) {
  const context = await browser.newContext();
  if (signedIn) {
    const login = await context.request.post(`${base}/api/login`, { data: { email, password } });
    if (login.status() !== 200) throw new Error(`sign-in failed: ${login.status()}`);
  }
  const page = await context.newPage();
  const assets = [];
  page.on('requestfinished', (request) => {
    const url = new URL(request.url());
    if (/\.(wasm|js|css)$/.test(url.pathname)) assets.push(request);
  });
  const started = Date.now();
  await page.goto(base + route);
  await page.waitForSelector('body[data-hydrated]', { timeout: 15_000 });
  const interactive = Date.now() - started;
  let bytes = 0;
  for (const request of assets) bytes += (await request.sizes()).responseBodySize;
  result[route] = { bytes, files: assets.map((r) => path.basename(new URL(r.url()).pathname)), interactive_ms: interactive };
  await context.close();
}
await browser.close();
console.log(JSON.stringify(result));
