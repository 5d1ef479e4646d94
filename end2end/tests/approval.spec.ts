import { expect, test, uniqueEmail, waitForHydration } from './helpers';
import type { Browser } from '@playwright/test';
import { approvalPort } from '../playwright.config';

// The second e2e server: ROSTER_REGISTRATION=approval.
test.use({ baseURL: `http://localhost:${approvalPort}` });

const ADMIN = { email: 'admin@example.com', password: 'staff key lemon 123' };
const PASSWORD = 'lantern meadow 7041';

/** Someone registers in a browser of their own and is told they wait. */
async function registerAndWait(browser: Browser, email: string, js: boolean) {
  const context = await browser.newContext({ javaScriptEnabled: js, baseURL: `http://localhost:${approvalPort}` });
  const page = await context.newPage();
  await page.goto('/register');
  if (js) await waitForHydration(page);
  await expect(page.getByTestId('approval-notice')).toBeVisible();
  await page.getByLabel('Name').fill('Waiting Person');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId('awaiting-approval')).toContainText(email);
  return { context, page };
}

for (const js of [true, false]) {
  test(`an administrator approves one waiting account and rejects another (${js ? 'with' : 'without'} JavaScript)`, async ({ browser }) => {
    const approved = uniqueEmail(js ? 'approved' : 'approved-nojs');
    const rejected = uniqueEmail(js ? 'rejected' : 'rejected-nojs');
    const first = await registerAndWait(browser, approved, js);
    const second = await registerAndWait(browser, rejected, js);

    const context = await browser.newContext({ javaScriptEnabled: js, baseURL: `http://localhost:${approvalPort}` });
    const page = await context.newPage();
    await page.goto('/login');
    if (js) await waitForHydration(page);
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page).toHaveURL(/\/account$/);
    await page.goto('/admin/users');
    if (js) await waitForHydration(page);
    const queue = page.getByTestId('approval-queue');
    await expect(queue.getByTestId('waiting-user').filter({ hasText: approved })).toHaveCount(1);
    await queue.getByRole('button', { name: `Approve ${approved}` }).click();
    await expect(queue.getByTestId('waiting-user').filter({ hasText: approved })).toHaveCount(0);
    await page.getByTestId('approval-queue').getByRole('button', { name: `Reject ${rejected}` }).click();
    await expect(page.getByTestId('waiting-user').filter({ hasText: rejected })).toHaveCount(0);

    // The approved person's open session now shows the account; the rejected one is signed out.
    await first.page.reload();
    await expect(first.page.getByTestId('account-email')).toHaveText(approved);
    await second.page.reload();
    await expect(second.page).toHaveURL(/\/login$/);
    await Promise.all([first.context.close(), second.context.close(), context.close()]);
  });
}
