import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test, expect, waitForHydration } from './helpers';

// A second Roster, started here, whose client files come from a stand-in CDN on
// another origin (ROSTER_ASSET_BASE_URL): the page must hydrate from it, with the
// CSP allowing it, and fetch no client file from Roster itself.
const dist = resolve(__dirname, '../../', process.env.ROSTER_E2E_DIST ?? 'dist');

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? done(address.port) : fail(new Error('no port'))));
    });
  });
}

async function answers(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(url)).status < 500) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} never answered`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let cdn: ChildProcess;
let roster: ChildProcess;
let rosterOrigin = '';
let cdnOrigin = '';
let dataDir = '';

test.beforeAll(async () => {
  const [cdnPort, rosterPort] = [await freePort(), await freePort()];
  cdnOrigin = `http://127.0.0.1:${cdnPort}`;
  rosterOrigin = `http://127.0.0.1:${rosterPort}`;
  cdn = spawn('python3', [resolve(__dirname, '../support/cdn.py'), String(cdnPort), join(dist, 'site')], {
    stdio: 'ignore',
  });
  dataDir = mkdtempSync(join(tmpdir(), 'roster-cdn-'));
  roster = spawn(join(dist, 'roster'), ['serve'], {
    stdio: 'ignore',
    env: {
      PATH: process.env.PATH,
      ROSTER_ADDR: `127.0.0.1:${rosterPort}`,
      DATABASE_URL: `sqlite://${dataDir}/roster.db`,
      // Beside the throwaway database, not in the working directory.
      ROSTER_SECRET_KEY_FILE: join(dataDir, 'secret.key'),
      ROSTER_MAIL_DIR: join(dataDir, 'mail'),
      LEPTOS_SITE_ROOT: join(dist, 'site'),
      ROSTER_ASSET_BASE_URL: cdnOrigin,
      ROSTER_LOG: 'warn',
    },
  });
  await answers(`${cdnOrigin}/favicon.ico`);
  await answers(`${rosterOrigin}/readyz`);
});

test.afterAll(async () => {
  roster?.kill();
  cdn?.kill();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('a page hydrates from the CDN and fetches no client file from Roster', async ({ page }) => {
  const fromRoster: string[] = [];
  const fromCdn: string[] = [];
  page.on('request', (request) => {
    const url = request.url();
    if (url.startsWith(`${rosterOrigin}/pkg/`)) fromRoster.push(url);
    if (url.startsWith(`${cdnOrigin}/pkg/`)) fromCdn.push(url);
  });
  const response = await page.goto(`${rosterOrigin}/login`);
  expect(response?.headers()['content-security-policy']).toContain(`script-src 'self' ${cdnOrigin} 'nonce-`);
  await waitForHydration(page);
  // A client-side navigation loads the next page's own chunk, from the CDN too.
  await page.locator('.form-footer').getByRole('link', { name: 'Create an account' }).click();
  await expect(page.getByRole('heading', { name: 'Create your account' })).toBeVisible();
  expect(fromRoster).toEqual([]);
  for (const kind of ['.css', '.js', '.wasm']) {
    expect(fromCdn.some((url) => url.endsWith(kind)), `a ${kind} file from the CDN`).toBe(true);
  }
});
