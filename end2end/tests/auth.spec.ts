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
  await page.getByRole('button', { name: 'Sign in' }).click();
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
  await other.getByRole('button', { name: 'Sign in' }).click();
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
