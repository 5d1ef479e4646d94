import { expect, test, uniqueEmail, waitForHydration } from './helpers';
import type { Page } from '@playwright/test';

const ADMIN = { email: 'admin@example.com', password: 'staff key lemon 123' };

async function signIn(page: Page, email: string, password: string) {
  await page.goto('/login');
  await waitForHydration(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/account$/);
}

test('an admin searches, creates, promotes, disables and deletes a user', async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin', exact: true }).click();
  await expect(page).toHaveURL(/\/admin$/);
  await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Users' }).click();
  await expect(page).toHaveURL(/\/admin\/users$/);
  await expect(page.getByRole('heading', { name: 'Users' })).toBeVisible();
  await waitForHydration(page);

  // Create, on its own page, which leads to the new account's page
  const email = uniqueEmail('managed');
  await page.getByRole('link', { name: 'New user' }).click();
  await expect(page).toHaveURL(/\/admin\/users\/new$/);
  await waitForHydration(page);
  await page.getByLabel('Name', { exact: true }).fill('Managed <b>Person</b>');
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Initial password').fill('initial password 1');
  await page.getByRole('button', { name: 'Create user' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Managed <b>Person</b>');
  await page.getByRole('link', { name: '← All users' }).click();
  await expect(page).toHaveURL(/\/admin\/users$/);
  await waitForHydration(page);

  // Search as you type (debounced): only the new user is left.
  await page.getByLabel('Search').fill(email.slice(0, 20));
  const rows = page.getByTestId('user-row');
  await expect(rows).toHaveCount(1);
  const row = rows.first();
  await expect(row).toHaveAttribute('data-email', email);
  await expect(row).toContainText('Managed <b>Person</b>'); // rendered as text, not markup

  // Promote
  await row.getByLabel(/Role of/).selectOption('admin');
  await expect(row).toHaveAttribute('aria-busy', 'false');
  // The table keeps showing the old rows until the filtered page arrives: wait for it.
  let listed = page.waitForResponse(
    (r) => r.url().includes('/rpc/users/list') && /role=admin/.test(r.request().postData() ?? ''),
  );
  await page.getByLabel('Filter by role').selectOption('admin');
  await listed;
  await expect(page.getByTestId('user-row').filter({ hasText: email })).toHaveCount(1);
  for (const role of await page.getByTestId('user-row').getByLabel(/Role of/).evaluateAll((els) => els.map((e) => (e as HTMLSelectElement).value))) {
    expect(role).toBe('admin');
  }
  listed = page.waitForResponse(
    (r) => r.url().includes('/rpc/users/list') && /role=(&|$)/.test(r.request().postData() ?? ''),
  );
  await page.getByLabel('Filter by role').selectOption('');
  await listed;

  // Disable, then find it with the status filter
  await page.getByTestId('user-row').first().getByLabel(/disabled$/).check();
  await expect(page.getByTestId('user-row').first()).toHaveAttribute('aria-busy', 'false');
  listed = page.waitForResponse(
    (r) => r.url().includes('/rpc/users/list') && /disabled=true/.test(r.request().postData() ?? ''),
  );
  await page.getByLabel('Filter by status').selectOption('yes');
  await listed;
  await expect(page.getByTestId('user-row')).toHaveCount(1);
  await expect(page.getByTestId('user-row').first().getByLabel(/disabled$/)).toBeChecked();

  // Delete, with confirmation
  const target = page.getByTestId('user-row').first();
  await target.getByRole('button', { name: 'Delete' }).click();
  await target.getByRole('button', { name: 'Confirm delete' }).click();
  await expect(page.getByTestId('user-row')).toHaveCount(0);
  await expect(page.getByText('No users match.')).toBeVisible();
});

test('the last admin cannot demote themselves: the error shows inline', async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto('/admin/users');
  await waitForHydration(page);
  // The unfiltered list already shows this row: act only once the search's own
  // answer has replaced it, or the re-rendered row drops the error it showed.
  const searched = page.waitForResponse(
    (r) => r.url().includes('/rpc/users/list') && (r.request().postData() ?? '').includes('admin%40example.com'),
  );
  await page.getByLabel('Search').fill(ADMIN.email);
  await searched;
  const row = page.getByTestId('user-row').filter({ hasText: ADMIN.email });
  await expect(row).toHaveCount(1);
  await row.getByLabel(/Role of/).selectOption('user');
  await expect(row.getByRole('alert')).toContainText('last active administrator');
});

test('non-admins get 403 and signed-out visitors the login page', async ({ page, request }) => {
  const email = uniqueEmail('plain');
  const res = await request.post('/api/register', { data: { name: 'Plain', email, password: 'plinth marrow 1' } });
  expect(res.status()).toBe(201);
  let response = await page.goto('/admin/users');
  await expect(page).toHaveURL(/\/login$/);
  await signIn(page, email, 'plinth marrow 1');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin', exact: true })).toHaveCount(0);
  response = await page.goto('/admin/users');
  expect(response?.status()).toBe(403);
  await expect(page.getByRole('heading', { name: 'Not allowed' })).toBeVisible();
});

test('the user table pages forwards and back', async ({ page, request }) => {
  // 21 new accounts guarantee a second page of 20, whatever else the database holds.
  const tag = `pager${Date.now()}`;
  for (let i = 0; i < 21; i++) {
    const res = await request.post('/api/register', {
      data: { name: `${tag} ${i}`, email: `${tag}-${i}@example.com`, password: 'cobalt marrow 1' },
    });
    expect(res.status()).toBe(201);
  }
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto('/admin/users');
  await waitForHydration(page);
  // The unfiltered first page looks the same (the newest accounts are these), so
  // wait for the debounced search itself to be answered.
  const searched = page.waitForResponse(
    (r) => r.url().includes('/rpc/users/list') && (r.request().postData() ?? '').includes(tag),
  );
  await page.getByLabel('Search').fill(tag);
  await searched;
  const rows = page.getByTestId('user-row');
  await expect(rows).toHaveCount(20);
  await expect(rows.first()).toContainText(`${tag} 20`); // newest first
  await expect(page.getByRole('button', { name: 'Previous' })).toBeDisabled();
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText(`${tag} 0`);
  await expect(page.getByRole('button', { name: 'Next' })).toBeDisabled();
  await page.getByRole('button', { name: 'Previous' }).click();
  await expect(rows).toHaveCount(20);
});

test('the audit log shows sign-in failures, filterable by action', async ({ page, request }) => {
  const email = uniqueEmail('audited');
  expect((await request.post('/api/register', { data: { name: 'Audited', email, password: 'ledger marrow 1' } })).status()).toBe(201);
  expect((await request.post('/api/login', { data: { email, password: 'not the password' } })).status()).toBe(401);
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto('/admin/users');
  await page.getByRole('link', { name: 'Audit log' }).click();
  await expect(page).toHaveURL(/\/admin\/audit$/);
  await waitForHydration(page);
  await expect(page.getByTestId('audit-row').filter({ hasText: email }).first()).toBeVisible();
  await page.getByLabel('Filter by action').selectOption('sign_in_failed');
  const rows = page.getByTestId('audit-row');
  await expect(rows.filter({ hasText: email })).toHaveCount(1);
  for (const action of await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-action')))) {
    expect(action).toBe('sign_in_failed');
  }
});

test('a role change long after signing in asks for the password in the row, then is made', async ({ page }) => {
  // The test server's re-authentication window is a minute (scripts/e2e-server): outwait it.
  test.setTimeout(120_000);
  const email = uniqueEmail('promoted-later');
  await page.goto('/register');
  await waitForHydration(page);
  await page.getByLabel('Name').fill('Later Promoted');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/account$/);
  await page.context().clearCookies();

  await signIn(page, ADMIN.email, ADMIN.password);
  await page.waitForTimeout(61_000);
  await page.goto('/admin/users');
  await waitForHydration(page);
  await page.getByLabel('Search').fill(email);
  // Only once the search has answered (a row drawn again loses what it was doing).
  await expect(page.getByTestId('user-row')).toHaveCount(1);
  const row = page.getByTestId('user-row').filter({ hasText: email });
  await row.getByLabel(/Role of/).selectOption('admin');
  const proof = row.getByTestId('row-proof');
  await expect(proof).toBeVisible();
  await proof.getByLabel(/your password/).fill('not the password');
  await proof.getByRole('button', { name: 'Confirm' }).click();
  await expect(proof.getByRole('alert')).toContainText('not correct');
  await proof.getByLabel(/your password/).fill(ADMIN.password);
  await proof.getByRole('button', { name: 'Confirm' }).click();
  await expect(proof).toHaveCount(0);
  await expect(row).toHaveAttribute('aria-busy', 'false');
  await page.reload();
  await waitForHydration(page);
  await page.getByLabel('Search').fill(email);
  await expect(page.getByTestId('user-row').filter({ hasText: email }).getByLabel(/Role of/)).toHaveValue('admin');
});
