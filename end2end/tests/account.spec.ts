import { expect, register, test, uniqueEmail } from './helpers';

test('a person edits their profile, changes password and signs out another device', async ({ page, playwright, baseURL }) => {
  const firstEmail = uniqueEmail('self');
  await register(page, 'Self Service', firstEmail, 'first password 1');
  await expect(page).toHaveURL(/\/account$/);

  // A second device: an API client signed in as the same person.
  const other = await playwright.request.newContext({ baseURL });
  const login = await other.post('/api/login', { data: { email: firstEmail, password: 'first password 1' } });
  expect(login.status()).toBe(200);
  expect((await other.get('/api/me')).status()).toBe(200);

  // Profile
  await page.getByLabel('Name', { exact: true }).fill('Renamed Person');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByText('Your profile was saved.')).toBeVisible();
  await expect(page.getByTestId('account-name')).toHaveText('Renamed Person');

  // Email: a new address needs the current password.
  const email = uniqueEmail('moved');
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByText('Enter your current password to change your email.')).toBeVisible();
  await page.getByLabel('Password (to change your email)').fill('first password 1');
  await page.getByRole('button', { name: 'Save changes' }).click();
  // It takes effect when the link mailed to the new address is followed (email.spec.ts).
  await expect(page.getByTestId('email-change-pending')).toBeVisible();
  await expect(page.getByTestId('account-email')).toHaveText(firstEmail);

  // Sessions: this device and the other one; sign the other out.
  const sessions = page.getByTestId('session');
  await page.reload();
  await expect(sessions).toHaveCount(2);
  await expect(sessions.filter({ hasText: 'This device' })).toHaveCount(1);
  await sessions.filter({ hasNotText: 'This device' }).getByRole('button', { name: 'Sign out' }).click();
  await expect(sessions).toHaveCount(1);
  expect((await other.get('/api/me')).status()).toBe(401);

  // Password: the current one is required.
  await page.getByLabel('Current password').fill('not my password');
  await page.getByLabel('New password').fill('second password 2');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByText('This password is not correct.')).toBeVisible();
  await page.getByLabel('Current password').fill('first password 1');
  await page.getByLabel('New password').fill('second password 2');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByText('Password changed.')).toBeVisible();
  const relogin = await other.post('/api/login', { data: { email: firstEmail, password: 'second password 2' } });
  expect(relogin.status()).toBe(200);

  // "Sign out everywhere else" ends the API client's new session but keeps this one.
  expect((await other.get('/api/me')).status()).toBe(200);
  await page.reload();
  await expect(sessions).toHaveCount(2);
  await page.getByRole('button', { name: 'Sign out everywhere else' }).click();
  await expect(sessions).toHaveCount(1);
  expect((await other.get('/api/me')).status()).toBe(401);
  await expect(page.getByTestId('account-name')).toHaveText('Renamed Person');

  // Delete the account: password required, then everything is gone.
  const again = await other.post('/api/login', { data: { email: firstEmail, password: 'second password 2' } });
  expect(again.status()).toBe(200);
  await page.getByLabel('Your password').fill('second password 2');
  await page.getByRole('button', { name: 'Delete my account' }).click();
  await expect(page).toHaveURL(/\/$/);
  expect((await other.get('/api/me')).status()).toBe(401);
  await other.dispose();
});
