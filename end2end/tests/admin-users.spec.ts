import { expect, test, uniqueEmail, waitForHydration, ADMIN, signInAsAdmin } from './helpers';
import { request as pwRequest } from '@playwright/test';
import type { APIRequestContext } from '@playwright/test';

const PASSWORD = 'cobalt marrow 12';


/** A new account, signed in twice (two sessions: `request` and another browser); its id. */
async function account(request: APIRequestContext, tag: string): Promise<{ id: string; email: string }> {
  const email = uniqueEmail(tag);
  const res = await request.post('/api/register', { data: { name: `Person ${tag}`, email, password: PASSWORD } });
  expect(res.status()).toBe(201);
  const id = (await res.json()).data.user.id as string;
  // Another cookie jar: a sign-in from the same one would end the first session.
  const other = await pwRequest.newContext({ baseURL: test.info().project.use.baseURL });
  expect((await other.post('/api/login', { data: { email, password: PASSWORD } })).status()).toBe(200);
  await other.dispose();
  return { id, email };
}

async function canSignIn(request: APIRequestContext, email: string): Promise<number> {
  return (await request.post('/api/login', { data: { email, password: PASSWORD } })).status();
}

for (const js of [true, false]) {
  test.describe(js ? 'with JavaScript' : 'without JavaScript', () => {
    test.use({ javaScriptEnabled: js });

    test('a user page shows the account, ends a session, disables, enables and deletes', async ({ page, request: api }) => {
      const person = await account(api, js ? 'detail-js' : 'detail-nojs');
      await signInAsAdmin(page, js);
      await page.goto(`/admin/users/${person.id}`);
      if (js) await waitForHydration(page);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Person ${js ? 'detail-js' : 'detail-nojs'}`);
      const facts = page.getByTestId('user-facts');
      await expect(facts).toContainText(person.email);
      await expect(page.getByTestId('user-state')).toHaveText('active');
      await expect(page.getByTestId('user-session')).toHaveCount(2);
      await expect(page.getByRole('heading', { name: 'Recent activity' })).toBeVisible();
      await expect(page.getByTestId('audit-row').filter({ hasText: 'sign in' }).first()).toBeVisible();

      // Name and address, edited in place; a mistake is shown beside its field.
      // An address the browser's own check lets through, and Roster's refuses.
      await page.getByLabel('Email', { exact: true }).fill('someone@localhost');
      await page.getByRole('button', { name: 'Save name and address' }).click();
      await expect(page.getByText('Enter a valid email address').first()).toBeVisible();
      await page.getByLabel('Email', { exact: true }).fill(person.email);
      await page.getByLabel('Name', { exact: true }).fill(`Renamed ${js ? 'js' : 'nojs'}`);
      await page.getByRole('button', { name: 'Save name and address' }).click();
      await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Renamed ${js ? 'js' : 'nojs'}`);

      // One session ends; the other stays.
      await page.getByTestId('user-session').first().getByRole('button', { name: /Sign out the session/ }).click();
      await expect(page.getByTestId('user-session')).toHaveCount(1);

      await page.getByRole('button', { name: 'Disable the account' }).click();
      await expect(page.getByTestId('user-state')).toHaveText('disabled');
      await expect(page.getByText('Not signed in anywhere.')).toBeVisible();
      expect(await canSignIn(api, person.email)).toBe(403);
      await page.getByRole('button', { name: 'Enable the account' }).click();
      await expect(page.getByTestId('user-state')).toHaveText('active');
      expect(await canSignIn(api, person.email)).toBe(200);

      // Delete needs its box ticked: the browser refuses the form without it.
      await page.getByRole('button', { name: 'Delete the account' }).click();
      await expect(page).toHaveURL(new RegExp(`/admin/users/${person.id}\\??$`));
      await expect(page.getByTestId('user-state')).toHaveText('active');
      await page.getByLabel(/Yes, delete/).check();
      await page.getByRole('button', { name: 'Delete the account' }).click();
      await expect(page).toHaveURL(/\/admin\/users$/);
      expect(await canSignIn(api, person.email)).toBe(401);
      await page.goto(`/admin/users/${person.id}`);
      await expect(page.getByRole('heading', { name: 'No such account' })).toBeVisible();
    });

    test('view as: the admin sees the account as its owner does, changes nothing, and goes back', async ({ page, request: api }) => {
      const tag = js ? 'viewed-js' : 'viewed-nojs';
      const person = await account(api, tag);
      await signInAsAdmin(page, js);
      await page.goto(`/admin/users/${person.id}`);
      if (js) await waitForHydration(page);
      await page.getByRole('button', { name: `View as Person ${tag}` }).click();
      await expect(page).toHaveURL(/\/account$/);
      const banner = page.getByTestId('viewing-as');
      await expect(banner).toContainText(`You are viewing as Person ${tag} (${person.email}).`);
      await expect(page.getByTestId('account-email')).toHaveText(person.email);
      await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin', exact: true })).toHaveCount(0);
      if (js) await waitForHydration(page);
      // Looking only.
      await page.getByLabel('Name', { exact: true }).fill('Changed By Admin');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await expect(page.getByText('Not while viewing as another user').first()).toBeVisible();
      // One click back, to the account's page in the admin area.
      await banner.getByRole('button', { name: `Back to ${ADMIN.email}` }).click();
      await expect(page).toHaveURL(new RegExp(`/admin/users/${person.id}$`));
      await expect(page.getByTestId('viewing-as')).toHaveCount(0);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Person ${tag}`);
      await expect(page.getByTestId('audit-row').filter({ hasText: 'impersonation ended' })).toHaveCount(1);
      // The owner sees it in their own activity.
      const own = await api.get('/api/me/activity');
      const actions = (await own.json()).data.items.map((e: { action: string }) => e.action);
      expect(actions).toContain('impersonation_started');
      expect(actions).toContain('impersonation_ended');
    });

    test('bulk: selected accounts are disabled with one confirmation', async ({ page, request: api }) => {
      const first = await account(api, js ? 'bulk-a-js' : 'bulk-a-nojs');
      const second = await account(api, js ? 'bulk-b-js' : 'bulk-b-nojs');
      const untouched = await account(api, js ? 'bulk-c-js' : 'bulk-c-nojs');
      await signInAsAdmin(page, js);
      await page.goto('/admin/users');
      if (js) await waitForHydration(page);
      await page.getByLabel(`Select ${first.email}`).check();
      await page.getByLabel(`Select ${second.email}`).check();
      await page.getByLabel('With selected').selectOption('disable');
      // Not confirmed: the browser stops the form, nothing changes.
      await page.getByRole('button', { name: 'Apply' }).click();
      expect(await canSignIn(api, first.email)).toBe(200);
      await page.getByLabel(/Yes, apply to the/).check();
      await page.getByRole('button', { name: 'Apply' }).click();
      await expect(page.getByTestId('bulk-report')).toContainText('Disable: 2 accounts done, 0 refused.');
      expect(await canSignIn(api, first.email)).toBe(403);
      expect(await canSignIn(api, second.email)).toBe(403);
      expect(await canSignIn(api, untouched.email)).toBe(200);
      await expect(page.getByLabel(`${'Person ' + (js ? 'bulk-a-js' : 'bulk-a-nojs')} disabled`)).toBeChecked();
    });
  });
}

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });
  test('a new user is created with a plain form and lands on their page', async ({ page }) => {
    await signInAsAdmin(page, false);
    await page.goto('/admin/users/new');
    const email = uniqueEmail('created-nojs');
    await page.getByLabel('Name', { exact: true }).fill('Made Plainly');
    await page.getByLabel('Email', { exact: true }).fill('someone@localhost');
    await page.getByLabel('Initial password').fill('initial password 1');
    await page.getByRole('button', { name: 'Create user' }).click();
    await expect(page.getByText(/valid email/i).first()).toBeVisible();
    await page.getByLabel('Name', { exact: true }).fill('Made Plainly');
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Initial password').fill('initial password 1');
    await page.getByRole('button', { name: 'Create user' }).click();
    await expect(page).toHaveURL(/\/admin\/users\/[0-9a-f-]{36}$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Made Plainly');
  });
});

test('a new user is created on its own page and lands on their page', async ({ page }) => {
  await signInAsAdmin(page, true);
  await page.goto('/admin/users');
  await waitForHydration(page);
  await page.getByRole('link', { name: 'New user' }).click();
  await expect(page).toHaveURL(/\/admin\/users\/new$/);
  await waitForHydration(page);
  const email = uniqueEmail('created');
  // A mistake is shown at once, beside its field.
  await page.getByLabel('Name', { exact: true }).fill('Made Here');
  await page.getByLabel('Email', { exact: true }).fill('not an address');
  await page.getByLabel('Initial password').fill('initial password 1');
  await page.getByRole('button', { name: 'Create user' }).click();
  await expect(page.getByText(/valid email/i)).toBeVisible();
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByRole('button', { name: 'Create user' }).click();
  await expect(page).toHaveURL(/\/admin\/users\/[0-9a-f-]{36}$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Made Here');
  await expect(page.getByTestId('user-facts')).toContainText(email);
});

test('the admin pages fit a phone: nothing scrolls sideways but the tables in their cards', async ({ page, request }) => {
  const person = await account(request, 'phone');
  await page.setViewportSize({ width: 375, height: 800 });
  await signInAsAdmin(page, true);
  for (const path of ['/admin', '/admin/users', `/admin/users/${person.id}`, '/admin/users/new', '/admin/invitations', '/admin/import', '/admin/audit']) {
    await page.goto(path);
    await expect(page.getByRole('navigation', { name: 'Administration' })).toBeVisible();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${path} is ${overflow}px wider than the phone`).toBeLessThanOrEqual(0);
  }
});
