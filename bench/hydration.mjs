// Time from navigation start to interactive (the app sets data-hydrated on <body>
// once the WASM has hydrated the page), for one path, in Debian's Chromium.
// Each round opens a fresh browser context (cold HTTP cache), then loads the page
// again in the same context (warm cache). Prints one JSON line.
// Usage: node bench/hydration.mjs BASE_URL [PATH] [ROUNDS]
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'end2end', 'package.json'));
const { chromium } = require('@playwright/test');

const [base, pagePath = '/login', roundsArg = '30'] = process.argv.slice(2);
const rounds = Number(roundsArg);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});

// Records, relative to navigation start, when <body> gains data-hydrated.
const probe = () => {
  const watch = () => {
    const seen = () => document.body && document.body.hasAttribute('data-hydrated');
    if (seen()) { window.__hydratedAt = performance.now(); return; }
    new MutationObserver((_, observer) => {
      if (seen()) { window.__hydratedAt = performance.now(); observer.disconnect(); }
    }).observe(document, { attributes: true, subtree: true, childList: true });
  };
  watch();
};

async function measure(page) {
  await page.goto(base + pagePath, { waitUntil: 'commit' });
  await page.waitForFunction(() => window.__hydratedAt !== undefined, null, { timeout: 15_000 });
  return page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    return { interactive: window.__hydratedAt, ttfb: nav.responseStart, dcl: nav.domContentLoadedEventEnd };
  });
}

const cold = [], warm = [];
for (let i = 0; i < rounds; i++) {
  const context = await browser.newContext();
  await context.addInitScript(probe);
  const page = await context.newPage();
  cold.push(await measure(page));
  warm.push(await measure(page));
  await context.close();
}
await browser.close();

const pct = (xs, p) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
const summary = (runs) => ({
  interactive_p50_ms: +pct(runs.map((r) => r.interactive), 50).toFixed(1),
  interactive_p90_ms: +pct(runs.map((r) => r.interactive), 90).toFixed(1),
  ttfb_p50_ms: +pct(runs.map((r) => r.ttfb), 50).toFixed(1),
});
console.log(JSON.stringify({ path: pagePath, rounds, cold: summary(cold), warm: summary(warm) }));
