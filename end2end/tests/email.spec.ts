import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, register, test, uniqueEmail, waitForHydration } from './helpers';

// The browser tests run with no SMTP server: each mail is an .eml file in this
// directory (scripts/e2e-server), which is what a person trying Roster locally gets.
const port = process.env.ROSTER_E2E_PORT ?? '3100';
const mailDir = process.env.ROSTER_E2E_MAIL_DIR ?? `/tmp/roster-e2e-mail-${port}`;
const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'a brand new passphrase';

function decodePart(headers: string, body: string): string {
  if (/content-transfer-encoding:\s*base64/i.test(headers)) {
    return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  }
  if (/content-transfer-encoding:\s*quoted-printable/i.test(headers)) {
    return body
      .replace(/=\r?\n/g, '')
      .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
  return body;
}

/** The text parts of every mail written to `to`, oldest first. */
function mailsTo(to: string): string[] {
  let files: string[] = [];
  try {
    files = readdirSync(mailDir).filter((f) => f.endsWith('.eml')).sort();
  } catch {
    return [];
  }
  return files
    .map((f) => readFileSync(join(mailDir, f), 'utf8'))
    .filter((eml) => new RegExp(`^To: .*${to.replace(/[.+]/g, '\\$&')}`, 'm').test(eml))
    .map((eml) =>
      eml
        .split(/\r?\n--/)
        .map((part) => {
          const [headers, ...rest] = part.split(/\r?\n\r?\n/);
          return /content-type:\s*text\/plain/i.test(headers) ? decodePart(headers, rest.join('\n\n')) : '';
        })
        .join(''),
    );
}

/** The link in the `n`th mail (from 1) to `to`, once it is written. */
async function nthLink(to: string, n: number, path: string): Promise<string> {
  await expect.poll(() => mailsTo(to).length, { timeout: 15_000 }).toBeGreaterThanOrEqual(n);
  const match = mailsTo(to)[n - 1].match(/https?:\/\/\S+\?token=[0-9a-f]{64}/);
  expect(match, `a link in mail ${n} to ${to}`).not.toBeNull();
  const link = new URL(match![0]);
  expect(link.pathname).toBe(path);
  return link.pathname + link.search;
}

async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).first().click();
  await expect(page).toHaveURL(/\/login$/);
}

async function askForReset(page: Page, email: string, hydrated: boolean): Promise<void> {
  await page.goto('/login');
  if (hydrated) await waitForHydration(page);
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await expect(page).toHaveURL(/\/password\/forgot$/);
  if (hydrated) await waitForHydration(page);
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Send me a link' }).click();
  await expect(page.getByTestId('forgot-sent')).toBeVisible();
}

async function setNewPassword(page: Page, link: string, hydrated: boolean): Promise<void> {
  await page.goto(link);
  // The secret left the address bar before the page rendered.
  await expect(page).toHaveURL(/\/password\/reset$/);
  if (hydrated) await waitForHydration(page);
  await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Set the new password' }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByRole('heading', { name: 'Your account', exact: true })).toBeVisible();
}

/** Registration as a plain HTML form (`register` waits for hydration). */
async function registerPlain(page: Page, name: string, email: string): Promise<void> {
  await page.goto('/register');
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
}

async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** The sign-in code in the `n`th mail (from 1) to `to`, once it is written. */
async function nthCode(to: string, n: number): Promise<string> {
  await expect.poll(() => mailsTo(to).length, { timeout: 15_000 }).toBeGreaterThanOrEqual(n);
  const match = mailsTo(to)[n - 1].match(/Your code: (\d{4}) (\d{4})/);
  expect(match, `a code in mail ${n} to ${to}`).not.toBeNull();
  return match![1] + match![2];
}

/** From the sign-in page to a code on its way to `email`. */
async function askForCode(page: Page, email: string, hydrated: boolean): Promise<void> {
  await page.goto('/login');
  if (hydrated) await waitForHydration(page);
  await page.getByRole('link', { name: 'Email me a sign-in code' }).click();
  await expect(page).toHaveURL(/\/login\/code$/);
  if (hydrated) await waitForHydration(page);
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Mail me a code' }).click();
  await expect(page.getByTestId('code-sent')).toBeVisible();
}

async function enterCode(page: Page, code: string): Promise<void> {
  await page.getByLabel('Code from the mail').fill(code);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** A code that is not `code`. */
function wrongCode(code: string): string {
  return code.slice(0, 7) + ((Number(code[7]) + 1) % 10);
}

test('signing in with a code from the mail, and a new browser is told', async ({ page, browser }) => {
  const email = uniqueEmail('code');
  await register(page, 'Cody Code', email, PASSWORD);
  await expect(page).toHaveURL(/\/account$/);
  await signOut(page);

  await askForCode(page, email, true);
  const code = await nthCode(email, 2);
  await waitForHydration(page);
  await enterCode(page, wrongCode(code));
  await expect(page.getByRole('alert').filter({ hasText: 'That code is not right' })).toBeVisible();
  await expect(page.getByLabel('Code from the mail')).toBeFocused();
  await enterCode(page, `${code.slice(0, 4)} ${code.slice(4)}`);
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByRole('heading', { name: 'Your account', exact: true })).toBeVisible();
  // The code proved the address.
  await expect(page.getByTestId('unverified-notice')).toHaveCount(0);

  // Another browser (no device cookie, another user agent) signs in: the owner is told.
  const elsewhere = await browser.newContext({
    userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:130.0) Gecko/20100101 Firefox/130.0',
  });
  const other = await elsewhere.newPage();
  await signIn(other, email, PASSWORD);
  await expect(other).toHaveURL(/\/account$/);
  await expect.poll(() => mailsTo(email).length, { timeout: 15_000 }).toBe(3);
  expect(mailsTo(email)[2]).toContain('Browser: Firefox on Windows');
  expect(mailsTo(email)[2]).toContain('/account#sessions');
  await elsewhere.close();
});

test('a forgotten password is reset with the link from the mail', async ({ page }) => {
  const email = uniqueEmail('reset');
  await register(page, 'Rita Reset', email, PASSWORD);
  await expect(page).toHaveURL(/\/account$/);
  await signOut(page);

  await askForReset(page, email, true);
  const link = await nthLink(email, 2, '/password/reset');
  await setNewPassword(page, link, true);

  // The link works once.
  await page.goto(link);
  await waitForHydration(page);
  await page.getByLabel('New password', { exact: true }).fill('yet another passphrase');
  await page.getByRole('button', { name: 'Set the new password' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'This link is not valid' })).toBeVisible();

  await page.goto('/account');
  await signOut(page);
  await signIn(page, email, PASSWORD);
  await expect(page.getByRole('alert').filter({ hasText: 'incorrect' })).toBeVisible();
  await signIn(page, email, NEW_PASSWORD);
  await expect(page).toHaveURL(/\/account$/);
});

test('an address is confirmed with the link from the mail, and a new link can be asked for', async ({ page }) => {
  const email = uniqueEmail('verify');
  await register(page, 'Vera Verify', email, PASSWORD);
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId('unverified-notice')).toBeVisible();
  const first = await nthLink(email, 1, '/email/verify');

  await waitForHydration(page);
  await page.getByRole('button', { name: 'Send a new link' }).click();
  await expect(page.getByTestId('verify-sent')).toBeVisible();
  const second = await nthLink(email, 2, '/email/verify');

  // The first link was replaced by the second.
  await page.goto(first);
  await expect(page).toHaveURL(/\/email\/verify$/);
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Confirm my address' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'This link is not valid' })).toBeVisible();

  await page.goto(second);
  await expect(page).toHaveURL(/\/email\/verify$/);
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Confirm my address' }).click();
  await expect(page.getByTestId('verify-confirmed')).toBeVisible();
  await page.goto('/account');
  await expect(page.getByTestId('account-email')).toHaveText(email);
  await expect(page.getByTestId('unverified-notice')).toHaveCount(0);
});

test('a new address takes effect from its link, and the old address can undo it', async ({ page }) => {
  const oldEmail = uniqueEmail('before');
  const newEmail = uniqueEmail('after');
  await register(page, 'Moving Person', oldEmail, PASSWORD);
  await expect(page).toHaveURL(/\/account$/);
  await waitForHydration(page);
  // The URL changes before the account page replaces the registration form (whose
  // Email field would take the typing): wait for the account page itself.
  await expect(page.getByTestId('account-email')).toHaveText(oldEmail);
  await page.waitForLoadState('networkidle');
  await page.getByLabel('Email', { exact: true }).fill(newEmail);
  await page.getByLabel('Password (to change your email)').fill(PASSWORD);
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByTestId('email-change-pending')).toBeVisible();

  await page.goto(await nthLink(newEmail, 1, '/email/change'));
  await expect(page).toHaveURL(/\/email\/change$/);
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Use this address' }).click();
  await expect(page.getByTestId('change-done')).toBeVisible();
  await page.goto('/account');
  await expect(page.getByTestId('account-email')).toHaveText(newEmail);

  // The old address's notice undoes it and signs the account out everywhere.
  await page.goto(await nthLink(oldEmail, 2, '/email/revert'));
  await expect(page).toHaveURL(/\/email\/revert$/);
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Undo the change' }).click();
  await expect(page.getByTestId('revert-done')).toBeVisible();
  await page.goto('/account');
  await expect(page).toHaveURL(/\/login$/);
  await signIn(page, oldEmail, PASSWORD);
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId('account-email')).toHaveText(oldEmail);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('a forgotten password is reset with plain HTML forms', async ({ page }) => {
    const email = uniqueEmail('reset-nojs');
    await registerPlain(page, 'Nora Nojs', email);
    await expect(page).toHaveURL(/\/account$/);
    await signOut(page);

    await askForReset(page, email, false);
    // A password the rules refuse comes back to the form, and the link still works.
    const link = await nthLink(email, 2, '/password/reset');
    await page.goto(link);
    await expect(page).toHaveURL(/\/password\/reset$/);
    await page.getByLabel('New password', { exact: true }).fill('short');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await expect(page.locator('#reset-password-error')).toBeVisible();
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await expect(page).toHaveURL(/\/account$/);

    await signOut(page);
    await signIn(page, email, NEW_PASSWORD);
    await expect(page).toHaveURL(/\/account$/);
  });

  test('an address is confirmed with plain HTML forms', async ({ page }) => {
    const email = uniqueEmail('verify-nojs');
    await registerPlain(page, 'Otto Nojs', email);
    await expect(page).toHaveURL(/\/account$/);
    await expect(page.getByTestId('unverified-notice')).toBeVisible();
    await page.getByRole('button', { name: 'Send a new link' }).click();
    await expect(page.getByTestId('verify-sent')).toBeVisible();

    const link = await nthLink(email, 2, '/email/verify');
    await page.goto(link);
    await expect(page).toHaveURL(/\/email\/verify$/);
    await page.getByRole('button', { name: 'Confirm my address' }).click();
    await expect(page.getByTestId('verify-confirmed')).toBeVisible();
    await page.goto('/account');
    await expect(page.getByTestId('unverified-notice')).toHaveCount(0);
  });

  test('a new address takes effect from its link with plain HTML forms', async ({ page }) => {
    const oldEmail = uniqueEmail('before-nojs');
    const newEmail = uniqueEmail('after-nojs');
    await registerPlain(page, 'Plain Mover', oldEmail);
    await expect(page).toHaveURL(/\/account$/);
    await page.getByLabel('Email', { exact: true }).fill(newEmail);
    await page.getByLabel('Password (to change your email)').fill(PASSWORD);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect(page.getByTestId('email-change-pending')).toBeVisible();

    await page.goto(await nthLink(newEmail, 1, '/email/change'));
    await page.getByRole('button', { name: 'Use this address' }).click();
    await expect(page.getByTestId('change-done')).toBeVisible();
    await page.goto('/account');
    await expect(page.getByTestId('account-email')).toHaveText(newEmail);

    await page.goto(await nthLink(oldEmail, 2, '/email/revert'));
    await page.getByRole('button', { name: 'Undo the change' }).click();
    await expect(page.getByTestId('revert-done')).toBeVisible();
    await page.goto('/account');
    await expect(page).toHaveURL(/\/login$/);
  });

  test('signing in with a code from the mail with plain HTML forms', async ({ page }) => {
    const email = uniqueEmail('code-nojs');
    await registerPlain(page, 'Plain Coder', email);
    await expect(page).toHaveURL(/\/account$/);
    await signOut(page);

    await askForCode(page, email, false);
    const code = await nthCode(email, 2);
    await enterCode(page, '123');
    await expect(page.locator('#code-code-error')).toBeVisible();
    await enterCode(page, wrongCode(code));
    await expect(page.getByRole('alert').filter({ hasText: 'That code is not right' })).toBeVisible();
    await enterCode(page, code);
    await expect(page).toHaveURL(/\/account$/);
    await expect(page.getByTestId('unverified-notice')).toHaveCount(0);
  });
});
