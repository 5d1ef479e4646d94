import { expect, test, waitForHydration, signInAsAdmin } from './helpers';

for (const js of [true, false]) {
  test.describe(js ? 'with JavaScript' : 'without JavaScript', () => {
    test.use({ javaScriptEnabled: js });

    test('the admin lands on the dashboard and picks a range', async ({ page }) => {
      await signInAsAdmin(page, js);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin', exact: true }).click();
      await expect(page).toHaveURL(/\/admin$/);
      await expect(page.getByRole('heading', { level: 1, name: 'Dashboard' })).toBeVisible();
      const tiles = page.getByTestId('dashboard-tiles');
      await expect(tiles).toContainText('Accounts');
      await expect(tiles).toContainText('Sign-ins');
      // Drawn on the server: an image with a name, and a table for screen readers.
      const signups = page.getByTestId('signups-chart');
      await expect(signups.getByRole('img', { name: /Sign-ups per day, last 7 days/ })).toBeVisible();
      await expect(page.getByTestId('sign-ins-chart').getByRole('img')).toBeVisible();
      await signups.getByText('As a table').click();
      await expect(signups.getByRole('table')).toBeVisible();
      await page.getByRole('navigation', { name: 'Range' }).getByRole('link', { name: 'last 24 hours' }).click();
      await expect(page).toHaveURL(/\?range=24h$/);
      await expect(page.getByTestId('signups-chart')).toContainText('Sign-ups per hour, last 24 hours');
      await expect(page.getByRole('link', { name: 'last 24 hours' })).toHaveAttribute('aria-current', 'page');
      // The newest events include this very sign-in.
      await expect(page.getByTestId('recent-events')).toContainText('sign in');
    });
  });
}

test('the charts take the colours of the light and the dark theme', async ({ page }) => {
  await signInAsAdmin(page, true);
  const fills: string[] = [];
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto('/admin?range=24h');
    await waitForHydration(page);
    const bar = page.getByTestId('sign-ins-chart').locator('rect.bar').last();
    fills.push(await bar.evaluate((el) => getComputedStyle(el).fill));
    const text = page.getByTestId('sign-ins-chart').locator('text').first();
    const background = await page.locator('body').evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(await text.evaluate((el) => getComputedStyle(el).fill)).not.toBe(background);
  }
  expect(fills[0]).not.toBe(fills[1]);
});
