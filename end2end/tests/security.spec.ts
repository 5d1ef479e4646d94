import { createHmac } from 'node:crypto';
import type { Page } from '@playwright/test';
import { expect, register, test, uniqueEmail, waitForHydration } from './helpers';

const PASSWORD = 'correct horse battery';

/** RFC 4648 base 32, as authenticator apps read the key. */
function base32Decode(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const char of text.replace(/=+$/, '').toUpperCase()) {
    const value = alphabet.indexOf(char);
    if (value < 0) throw new Error(`not base 32: ${char}`);
    bits += value.toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** What an authenticator app shows `steps` time steps (30 s each) from now: RFC 6238, SHA-1, 6 digits. */
function totp(secret: string, steps = 0): string {
  const counter = Math.floor(Date.now() / 1000 / 30) + steps;
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', base32Decode(secret)).update(message).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return value.toString().padStart(6, '0');
}

async function signOut(page: Page): Promise<void> {
  await page.goto('/account');
  await page.getByRole('button', { name: 'Sign out' }).first().click();
  await expect(page).toHaveURL(/\/login$/);
}

async function firstStep(page: Page, email: string, hydrated: boolean): Promise<void> {
  await page.goto('/login');
  if (hydrated) await waitForHydration(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/login\/second-factor$/);
  if (hydrated) await waitForHydration(page);
}

async function secondStep(page: Page, code: string): Promise<void> {
  await page.getByLabel('Code', { exact: true }).fill(code);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** Sets the app up on the security page; returns its key and the recovery codes shown. */
async function setUpApp(page: Page, hydrated: boolean): Promise<{ secret: string; codes: string[] }> {
  await page.goto('/account');
  await page.getByTestId('security-link').click();
  await expect(page).toHaveURL(/\/account\/security$/);
  if (hydrated) await waitForHydration(page);
  await expect(page.getByTestId('totp-status')).toContainText('off');
  await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
  // The QR code is an SVG rendered on the server, with the key as text beside it.
  await expect(page.getByRole('img', { name: 'QR code for your authenticator app' }).locator('svg')).toBeVisible();
  const secret = (await page.getByTestId('totp-secret').textContent())!.trim();
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  await page.getByLabel('Code from the app').fill('000000');
  await page.getByRole('button', { name: 'Turn on' }).click();
  await expect(page.locator('#totp-code-error')).toContainText('not right');
  await page.getByLabel('Code from the app').fill(totp(secret));
  await page.getByRole('button', { name: 'Turn on' }).click();
  const shown = page.getByTestId('fresh-codes');
  await expect(shown).toBeVisible();
  const codes = (await shown.locator('li code').allTextContents()).map((c) => c.trim());
  expect(codes).toHaveLength(10);
  await expect(page.getByTestId('totp-status')).toContainText('on');
  await expect(page.getByTestId('codes-left')).toContainText('10 unused');
  await page.getByRole('button', { name: 'I have saved them' }).click();
  await expect(shown).toHaveCount(0);
  return { secret, codes };
}

test('an authenticator app guards sign-in, and a recovery code works once', async ({ page }) => {
  const email = uniqueEmail('totp');
  await register(page, 'Tess Totp', email, PASSWORD);
  await expect(page).toHaveURL(/\/account$/);
  const { secret, codes } = await setUpApp(page, true);

  await signOut(page);
  await firstStep(page, email, true);
  // The code that turned the app on is spent; a wrong one is said so and focused.
  await secondStep(page, '123456');
  await expect(page.getByRole('alert').filter({ hasText: 'That code is not right' })).toBeVisible();
  await expect(page.getByLabel('Code', { exact: true })).toBeFocused();
  await secondStep(page, totp(secret, 1));
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByRole('heading', { name: 'Your account', exact: true })).toBeVisible();

  // A recovery code instead of the app, typed loosely; it works once.
  await signOut(page);
  await firstStep(page, email, true);
  await secondStep(page, codes[0].replaceAll('-', ' ').toUpperCase());
  await expect(page).toHaveURL(/\/account$/);
  await signOut(page);
  await firstStep(page, email, true);
  await secondStep(page, codes[0]);
  await expect(page.getByRole('alert').filter({ hasText: 'That code is not right' })).toBeVisible();
  await secondStep(page, codes[1]);
  await expect(page).toHaveURL(/\/account$/);
  await page.goto('/account/security');
  await expect(page.getByTestId('codes-left')).toContainText('8 unused');
});

test('a change that needs a fresh proof asks for the password inline, then carries on', async ({ page }) => {
  // The test server's window is a minute (scripts/e2e-server): outwait it.
  test.setTimeout(120_000);
  const email = uniqueEmail('reauth');
  await register(page, 'Rhea Reauth', email, PASSWORD);
  await expect(page).toHaveURL(/\/account$/);
  const { secret } = await setUpApp(page, true);
  await page.waitForTimeout(61_000);
  await page.goto('/account/security');
  await waitForHydration(page);
  const prompt = page.getByTestId('reauth-prompt');
  await expect(prompt).toBeHidden();
  await page.getByRole('button', { name: 'Make new recovery codes' }).click();
  await expect(prompt).toBeVisible();
  await expect(prompt.getByLabel('Password')).toBeFocused();
  await prompt.getByLabel('Password').fill('not my password');
  await prompt.getByRole('button', { name: 'Continue' }).click();
  await expect(prompt.locator('#reauth-password-error')).toContainText('not correct');
  await prompt.getByLabel('Password').fill(PASSWORD);
  await prompt.getByRole('button', { name: 'Continue' }).click();
  // It carries on: the new codes are there without asking again.
  await expect(page.getByTestId('fresh-codes')).toBeVisible();
  await expect(prompt).toBeHidden();
  await page.getByRole('button', { name: 'I have saved them' }).click();
  // Turning the app off takes a code (or the password) in its own form.
  await page.getByText('Turn off the authenticator app').click();
  await page.locator('#disable-code').fill(totp(secret, 1));
  await page.getByRole('button', { name: 'Turn off', exact: true }).click();
  await expect(page.getByTestId('totp-status')).toContainText('off');
});

test('a passkey is added, then signs in alone and as the second step', async ({ page }) => {
  // Chromium's virtual authenticator: a platform passkey store with user verification.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  const email = uniqueEmail('passkey');
  await register(page, 'Paz Passkey', email, PASSWORD);
  await expect(page).toHaveURL(/\/account$/);
  await page.goto('/account/security');
  await waitForHydration(page);
  await expect(page.getByTestId('passkey-count')).toHaveText('0 passkey(s).');
  await page.getByLabel('Name for a new passkey').fill('Test laptop');
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  await expect(page.getByTestId('passkey-name')).toHaveText('Test laptop');
  // The account's first second factor brings its recovery codes, shown once.
  await expect(page.getByTestId('fresh-codes')).toBeVisible();
  await page.getByRole('button', { name: 'I have saved them' }).click();
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  expect(credentials).toHaveLength(1);
  expect(credentials[0].isResidentCredential).toBe(true);

  // Usernameless: no address typed, the passkey names the account.
  await signOut(page);
  await page.goto('/login');
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId('account-email')).toHaveText(email);

  // The password now asks for a second step, which the passkey passes.
  await signOut(page);
  await firstStep(page, email, true);
  await page.getByRole('button', { name: 'Use a passkey instead' }).click();
  await expect(page).toHaveURL(/\/account$/);

  // Renamed and removed on the security page; then the password alone signs in again.
  await page.goto('/account/security');
  await waitForHydration(page);
  await page.getByLabel('New name for Test laptop').fill('Old laptop');
  await page.getByRole('button', { name: 'Rename' }).click();
  await expect(page.getByTestId('passkey-name')).toHaveText('Old laptop');
  await page.getByRole('button', { name: 'Remove' }).click();
  await expect(page.getByTestId('passkey-count')).toHaveText('0 passkey(s).');
  await signOut(page);
  await page.goto('/login');
  await waitForHydration(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/account$/);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the app is set up and sign-in takes its code with plain HTML forms', async ({ page }) => {
    const email = uniqueEmail('totp-nojs');
    await page.goto('/register');
    await page.getByLabel('Name').fill('Nina Nojs');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect(page).toHaveURL(/\/account$/);
    const { secret, codes } = await setUpApp(page, false);

    await signOut(page);
    await firstStep(page, email, false);
    await secondStep(page, '000000');
    await expect(page.getByRole('alert').filter({ hasText: 'That code is not right' })).toBeVisible();
    await secondStep(page, totp(secret, 1));
    await expect(page).toHaveURL(/\/account$/);
    await signOut(page);
    await firstStep(page, email, false);
    await secondStep(page, codes[2]);
    await expect(page).toHaveURL(/\/account$/);
  });
});
