import { test as base, expect, type Page } from '@playwright/test';

/**
 * `test` that fails when the page logs an error or throws: a hydration mismatch,
 * a panic in the WASM, or a missing asset all show up here.
 */
export const test = base.extend<{ failOnPageErrors: void }>({
  failOnPageErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
      // Refused server-function and API calls (a 4xx with its error envelope) and
      // pages answered with 403 or 404 are answers the test checks, not faults; the
      // browser logs them all the same. Anything else, such as a missing CSS, JS or
      // WASM file, is a fault.
      const answers = new Set<string>();
      page.on('response', (response) => {
        const url = response.url();
        const answer = /\/(rpc|api)\//.test(url) || response.request().resourceType() === 'document';
        if (response.status() < 400) return;
        if (answer && response.status() < 500) answers.add(url);
        else errors.push(`response: ${response.status()} ${url}`);
      });
      page.on('console', (msg) => {
        if (msg.type() !== 'error') return;
        const answered = /status of 4\d\d/.test(msg.text()) && answers.has(msg.location().url);
        if (!answered) errors.push(`console: ${msg.text()} (${msg.location().url})`);
      });
      await use();
      expect(errors, 'page errors').toEqual([]);
    },
    { auto: true },
  ],
});
export { expect };

/** A unique address per test, so runs never collide. */
export function uniqueEmail(tag: string): string {
  return `${tag}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

/** Clicks before hydration are lost; the app marks <body> once it is interactive. */
export async function waitForHydration(page: Page): Promise<void> {
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

export async function register(page: Page, name: string, email: string, password: string): Promise<void> {
  await page.goto('/register');
  await waitForHydration(page);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
}

/** The administrator `scripts/e2e-server` creates. */
export const ADMIN = { email: 'admin@example.com', password: 'staff key lemon 123' };

/** Signs in as the administrator through the form, hydrated (`js`) or not. */
export async function signInAsAdmin(page: Page, js: boolean): Promise<void> {
  await page.goto('/login');
  if (js) await waitForHydration(page);
  await page.getByLabel('Email').fill(ADMIN.email);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/account$/);
}
