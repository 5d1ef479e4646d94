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
      page.on('console', (msg) => {
        // Failed form submissions log the 4xx response; those are expected answers, not faults.
        if (msg.type() === 'error' && !/status of 4\d\d/.test(msg.text())) errors.push(`console: ${msg.text()}`);
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
