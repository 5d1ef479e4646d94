import { expect, test, waitForHydration } from './helpers';

const ADMIN = { email: 'admin@example.com', password: 'staff key lemon 123' };

/**
 * Every page is its own lazily loaded WASM chunk in the release build these tests
 * run against. A hard load of each route must hydrate with every file it asks for
 * present (the shared fixture fails the test on any asset that does not load), the
 * server must announce the chunks of the page it rendered (`<link rel="preload">`, so
 * a direct load does not wait for the main bundle to ask for them), and moving
 * between pages in the browser must load the chunks it has not seen yet.
 */
test('a hard load of every route hydrates, and so does navigating between them', async ({ page }) => {
  const wasm = new Set<string>();
  page.on('response', (response) => {
    const path = new URL(response.url()).pathname;
    if (path.endsWith('.wasm') && response.ok()) wasm.add(path);
  });

  for (const [path, heading, chunk] of [
    ['/', 'Roster', 'home'],
    ['/register', 'Create your account', 'register'],
    ['/login', 'Sign in', 'login'],
    ['/login/code', 'Sign in with a code', 'login_code'],
    ['/login/second-factor', 'Enter your code', 'login_second_factor'],
    ['/password/forgot', 'Reset your password', 'forgot_password'],
    ['/password/reset', 'Choose a new password', 'reset_password'],
    ['/email/verify', 'Confirm your address', 'verify_email'],
    ['/email/change', 'Confirm your new address', 'change_email'],
    ['/email/revert', 'Undo the change of address', 'revert_email'],
  ]) {
    const response = await page.goto(path);
    await waitForHydration(page);
    await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
    expectPreloadedChunk(await response!.text(), path, chunk);
  }

  await page.goto('/login');
  await waitForHydration(page);
  await page.getByLabel('Email').fill(ADMIN.email);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/account$/);

  for (const [path, heading, chunk] of [
    ['/account', 'Your account', 'account'],
    ['/account/security', 'Two-step sign-in', 'account_security'],
    ['/admin', 'Dashboard', 'admin_dashboard'],
    ['/admin/users', 'Users', 'admin_users'],
    ['/admin/invitations', 'Invite someone', 'admin_invitations'],
    ['/admin/import', 'Import accounts', 'admin_import'],
    ['/admin/audit', 'Audit log', 'admin_audit'],
  ]) {
    const response = await page.goto(path);
    await waitForHydration(page);
    await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
    expectPreloadedChunk(await response!.text(), path, chunk);
  }
  expect(wasm.size, `the main bundle and page chunks: ${[...wasm].join(', ')}`).toBeGreaterThan(2);

  // In the browser, from a fresh load of one page to the others.
  await page.goto('/');
  await waitForHydration(page);
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('link', { name: 'Admin', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Dashboard' })).toBeVisible();
  const admin = page.getByRole('navigation', { name: 'Administration' });
  await admin.getByRole('link', { name: 'Users' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Users' })).toBeVisible();
  await admin.getByRole('link', { name: 'Invitations' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Invite someone' })).toBeVisible();
  await admin.getByRole('link', { name: 'Audit log' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Audit log' })).toBeVisible();
  await nav.getByRole('link', { name: 'Site Admin' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Your account' })).toBeVisible();
  await expect(page.getByTestId('account-email')).toHaveText(ADMIN.email);
  await page.getByTestId('security-link').click();
  await expect(page.getByRole('heading', { level: 1, name: 'Two-step sign-in' })).toBeVisible();
});

/** The HTML the server sent names the route's own chunk among the WASM it preloads. */
function expectPreloadedChunk(html: string, path: string, chunk: string) {
  const preloaded = [...html.matchAll(/<link[^>]*rel="preload"[^>]*>/g)]
    .map((link) => link[0])
    .filter((link) => link.includes('type="application/wasm"'))
    .map((link) => /href="([^"]*)"/.exec(link)?.[1] ?? '');
  expect(
    preloaded.some((href) => href.startsWith(`/pkg/split___${chunk}_route_view_`)),
    `${path} preloads its page chunk (${chunk}): ${preloaded.join(', ')}`,
  ).toBe(true);
}
