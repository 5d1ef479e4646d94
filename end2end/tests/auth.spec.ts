import type { Page } from '@playwright/test';
import { expect, register, test, uniqueEmail, waitForHydration } from './helpers';

const PASSWORD = 'correct horse battery';

test('register, see the account, sign out and sign back in', async ({ page }) => {
  const email = uniqueEmail('flow');
  await register(page, 'Ada Lovelace', email, PASSWORD);

  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByRole('heading', { name: 'Your account', exact: true })).toBeVisible();
  await expect(page.getByTestId('account-email')).toHaveText(email);
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Ada Lovelace' })).toBeVisible();

  await page.getByRole('button', { name: 'Sign out' }).first().click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sign in' })).toBeVisible();

  // Signed out for real: the account page sends us back to sign in.
  await page.goto('/account');
  await expect(page).toHaveURL(/\/login$/);

  await waitForHydration(page);
  await page.getByLabel('Email').fill(email.toUpperCase());
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId('account-name')).toHaveText('Ada Lovelace');
});

test('client-side validation shows field errors without a request', async ({ page }) => {
  const rpcCalls: string[] = [];
  page.on('request', (request) => {
    if (request.url().includes('/rpc/')) rpcCalls.push(request.url());
  });
  await page.goto('/register');
  await waitForHydration(page);
  rpcCalls.length = 0; // the header's "who am I" call during hydration does not count

  await page.getByLabel('Email').fill('not-an-email');
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();

  await expect(page.getByText('Enter a valid email address')).toBeVisible();
  await expect(page.getByText('Password must be at least 8 characters.')).toBeVisible();
  await expect(page.getByText('Enter your name.')).toBeVisible();
  await expect(page.getByLabel('Email')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Name')).toBeFocused(); // the first field in error
  await expect(page).toHaveURL(/\/register$/);
  expect(rpcCalls).toEqual([]);

  // Fixing a field clears its message.
  await page.getByLabel('Email').fill('fixed@example.com');
  await expect(page.getByText('Enter a valid email address')).toHaveCount(0);
});

test('server errors appear on the form: taken email and wrong password', async ({ page, browser }) => {
  const email = uniqueEmail('taken');
  await register(page, 'First', email, PASSWORD);
  await expect(page).toHaveURL(/\/account$/);

  const other = await browser.newPage();
  await register(other, 'Second', email, PASSWORD);
  await expect(other.getByText('An account with this email already exists.')).toBeVisible();
  await expect(other.getByLabel('Email')).toHaveAttribute('aria-invalid', 'true');
  await expect(other.getByLabel('Email')).toBeFocused();

  await other.goto('/login');
  await waitForHydration(other);
  await other.getByLabel('Email').fill(email);
  await other.getByLabel('Password').fill('wrong password');
  await other.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(other.getByRole('alert')).toHaveText('The email or password is incorrect.');
  await expect(other).toHaveURL(/\/login$/);
  await other.close();
});

test('a strength hint as you type, and common passwords refused', async ({ page }) => {
  await page.goto('/register');
  await waitForHydration(page);
  const password = page.getByLabel('Password');
  await password.pressSequentially('abc');
  await expect(page.locator('#register-password-strength')).toHaveText('Strength: too short');
  await password.fill('');
  await password.pressSequentially('abcdefgh');
  await expect(page.locator('#register-password-strength')).toHaveText('Strength: weak');
  await password.pressSequentially(' river Stone 42');
  await expect(page.locator('#register-password-strength')).toHaveText('Strength: strong');

  await page.getByLabel('Name').fill('Common');
  await page.getByLabel('Email').fill(uniqueEmail('common'));
  await password.fill('baseball');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByText('This password is too common.')).toBeVisible();
  await expect(page).toHaveURL(/\/register$/);
});

/** The session cookie as the browser keeps it: `expires` is -1 for a cookie that ends with the browser. */
async function sessionCookie(page: Page) {
  const cookies = await page.context().cookies();
  const cookie = cookies.find((c) => c.name.endsWith('roster_session'));
  expect(cookie, 'signed in').toBeDefined();
  return cookie!;
}

/** Signs in through the form, ticking "Keep me signed in" or not; with JavaScript it waits for hydration first. */
async function signIn(page: Page, email: string, remember: boolean, javaScript: boolean) {
  await page.goto('/login');
  if (javaScript) await waitForHydration(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByLabel('Keep me signed in on this device').setChecked(remember);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/account$/);
}

async function rememberMeChoice(page: Page, javaScript: boolean) {
  const email = uniqueEmail(javaScript ? 'remember' : 'remember-nojs');
  if (javaScript) {
    await register(page, 'Ada Lovelace', email, PASSWORD);
  } else {
    await page.goto('/register');
    await page.getByLabel('Name').fill('Ada Lovelace');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
  }
  await expect(page).toHaveURL(/\/account$/);
  expect((await sessionCookie(page)).expires, 'registration: until the browser closes').toBe(-1);

  await page.context().clearCookies();
  await signIn(page, email, false, javaScript);
  expect((await sessionCookie(page)).expires, 'unticked: until the browser closes').toBe(-1);

  await page.context().clearCookies();
  await signIn(page, email, true, javaScript);
  const thirteenDays = Date.now() / 1000 + 13 * 24 * 3600;
  expect((await sessionCookie(page)).expires, 'ticked: kept for the long lifetime').toBeGreaterThan(thirteenDays);
}

test('staying signed in is a choice: only a ticked box outlives the browser', async ({ page }) => {
  await rememberMeChoice(page, true);
});

test('unknown pages show a 404 page', async ({ page }) => {
  const response = await page.goto('/definitely/not/here');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('registration works as a plain HTML form', async ({ page }) => {
    const email = uniqueEmail('nojs');
    await page.goto('/register');
    await page.getByLabel('Name').fill('Grace Hopper');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect(page).toHaveURL(/\/account$/);
    await expect(page.getByTestId('account-email')).toHaveText(email);
  });

  test('staying signed in is a choice in the plain HTML form too', async ({ page }) => {
    await rememberMeChoice(page, false);
  });

  test('server-side validation errors come back to the form', async ({ page }) => {
    await page.goto('/register');
    await page.getByLabel('Name').fill('Grace');
    await page.getByLabel('Email').fill('nope');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect(page).toHaveURL(/\/register\?/);
    await expect(page.getByText('Enter a valid email address')).toBeVisible();
    await expect(page.getByLabel('Email')).toHaveAttribute('aria-invalid', 'true');
  });
});
