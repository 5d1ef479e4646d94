import { expect, test, uniqueEmail, waitForHydration, signInAsAdmin } from './helpers';
import type { Browser, Page } from '@playwright/test';
import { readFileSync } from 'node:fs';

// The e2e server has no mail server: an invitation's link is shown to the admin.
const PASSWORD = 'copper orchard 5812';


async function invite(page: Page, email: string, js: boolean): Promise<string> {
  await page.goto('/admin/invitations');
  if (js) await waitForHydration(page);
  await expect(page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Invitations' }))
    .toHaveAttribute('aria-current', 'page');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Role').selectOption('user');
  await page.getByRole('button', { name: 'Send invitation' }).click();
  const shown = page.getByTestId('invitation-link');
  await expect(shown).toContainText(email);
  const link = await shown.getByLabel('Invitation link').inputValue();
  expect(link).toMatch(/\/register\?invitation=[0-9a-f]{64}$/);
  await expect(page.getByTestId('invitation-row').filter({ hasText: email })).toContainText('pending');
  return link;
}

/** The invited person, in a browser of their own. */
async function accept(browser: Browser, link: string, email: string, js: boolean) {
  const context = await browser.newContext({ javaScriptEnabled: js });
  const page = await context.newPage();
  await page.goto(link);
  if (js) await waitForHydration(page);
  await expect(page.getByTestId('invited')).toContainText(email);
  const address = page.getByLabel('Email');
  await expect(address).toHaveValue(email);
  await expect(address).toHaveAttribute('readonly', '');
  await page.getByLabel('Name').fill('Invited Person');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId('account-email')).toHaveText(email);
  // The link works once.
  await page.goto(link);
  await expect(page.getByRole('alert')).toContainText('not valid any more');
  await context.close();
}

for (const js of [true, false]) {
  test.describe(js ? 'with JavaScript' : 'without JavaScript', () => {
    test.use({ javaScriptEnabled: js });

    test('an admin invites someone, who registers with the link; another invitation is withdrawn', async ({ page, browser }) => {
      await signInAsAdmin(page, js);
      const email = uniqueEmail(js ? 'invited' : 'invited-nojs');
      const link = await invite(page, email, js);
      await accept(browser, link, email, js);
      await page.goto('/admin/invitations');
      await expect(page.getByTestId('invitation-row').filter({ hasText: email })).toContainText('accepted');

      const other = uniqueEmail('withdrawn');
      const otherLink = await invite(page, other, js);
      const row = page.getByTestId('invitation-row').filter({ hasText: other });
      await row.getByRole('button', { name: `Withdraw the invitation for ${other}` }).click();
      await expect(row).toContainText('revoked');
      await page.goto(otherLink);
      await expect(page.getByRole('alert')).toContainText('not valid any more');
    });

    test('an admin checks an import, sees the refused rows, then imports a Django account that signs in', async ({ page }) => {
      await signInAsAdmin(page, js);
      await page.goto('/admin/import');
      if (js) await waitForHydration(page);
      const fixture = JSON.parse(readFileSync('../server/tests/fixtures/legacy_hashes.json', 'utf8'));
      const django = fixture.vectors.find((v: { format: string }) => v.format === 'django_pbkdf2_sha256');
      const email = uniqueEmail(js ? 'django' : 'django-nojs');
      const bad = `email,name,password_hash\n${email},From Django,${django.hash}\nnot-an-address,X,\n`;
      await page.getByLabel('…or paste it here').fill(bad);
      await page.getByRole('button', { name: 'Check only' }).click();
      const report = page.getByTestId('import-report');
      await expect(report).toContainText('Checked 2 rows: 1 can be imported, 1 would be refused.');
      await expect(report).toContainText('Line 3 (not-an-address): email:');
      await page.getByLabel('…or paste it here').fill(bad);
      await page.getByRole('button', { name: 'Import', exact: true }).click();
      await expect(page.getByTestId('import-refused')).toContainText('1 of 2 rows were refused; nothing was imported.');

      const good = `email,name,password_hash\n${email},From Django,${django.hash}\n`;
      await page.getByLabel('…or paste it here').fill(good);
      await page.getByRole('button', { name: 'Import', exact: true }).click();
      await expect(page.getByTestId('import-report')).toContainText('Imported 1 accounts.');

      // The imported account signs in with the password it had in Django.
      const response = await page.request.post('/api/login', { data: { email, password: django.password } });
      expect(response.status()).toBe(200);
    });
  });
}

test('a file chosen from disk fills the import box', async ({ page }, info) => {
  await signInAsAdmin(page, true);
  await page.goto('/admin/import');
  await waitForHydration(page);
  const path = info.outputPath('accounts.csv');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(path, 'email,name\nchosen@example.com,Chosen\n');
  await page.getByLabel('Choose a file').setInputFiles(path);
  await expect(page.getByLabel('…or paste it here')).toHaveValue('email,name\nchosen@example.com,Chosen\n');
});
