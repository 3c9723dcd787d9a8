// Browser tests of the dashboard: Debian's Chromium driven by playwright-core
// against a running Plinth (PLINTH_URL). dashboard/browser_test.go starts a
// test server, creates the admin accounts and runs this file; to run it by
// hand against `make dev`, set the variables listed below.
//
// Flows whose admin endpoints are not on the server yet mark themselves
// todo at run time (they still run, and switch on by themselves once the
// endpoint lands).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium } from 'playwright-core';

const env = (k, d) => process.env[k] || d;
const URL = env('PLINTH_URL', 'http://127.0.0.1:8080');
const ADMIN = { email: env('PLINTH_ADMIN_EMAIL', 'admin@example.com'), password: env('PLINTH_ADMIN_PASSWORD', 'admin-password') };
const TOKEN = env('PLINTH_ADMIN_TOKEN', '');
const ARTIFACTS = env('PLINTH_ARTIFACTS', path.resolve('artifacts'));
const REF = env('PLINTH_E2E_REF', 'e2e');
// The viewer's account is made in the dashboard's Accounts page.
const VIEWER = { email: `viewer-${REF}@example.com`, password: 'viewer-password-1' };
mkdirSync(ARTIFACTS, { recursive: true });

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let browser;
const cspErrors = [];
const keys = {};

async function newPage() {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: URL });
  const page = await ctx.newPage();
  page.setDefaultTimeout(10_000);
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text()); });
  page.on('pageerror', (e) => cspErrors.push('page error: ' + e.message));
  return page;
}

const shot = (page, name) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

// admin calls the admin API directly (with the static token) to check what
// the UI did or did not change.
async function admin(method, p, body) {
  const res = await fetch(URL + '/admin/v1' + p, {
    method, headers: { Authorization: `Bearer ${TOKEN}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let data = text;
  try { data = JSON.parse(text); } catch { /* text */ }
  return { status: res.status, data, headers: res.headers };
}

// available tells whether the server has an admin endpoint (a missing route
// answers 404 "Not found" or 405).
async function available(method, p) {
  const r = await admin(method, p, method === 'GET' ? undefined : {});
  return !(r.status === 405 || (r.status === 404 && r.data?.message === 'Not found'));
}

async function signIn(page, who) {
  await page.goto(URL + '/dashboard/');
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Projects' }).waitFor();
}

const go = (page, p) => page.goto(URL + '/dashboard' + p);
const alert = (page) => page.getByRole('alert');

before(async () => {
  assert.ok(TOKEN, 'PLINTH_ADMIN_TOKEN is needed to check results through the admin API');
  browser = await chromium.launch({
    executablePath: env('CHROMIUM', '/usr/bin/chromium'),
    // Playwright gives each launch a fresh, empty profile directory.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
after(async () => { await browser?.close(); });

describe('dashboard', { concurrency: 1 }, () => {
  let page;
  // flow is a test that leaves a screenshot of the page when it fails.
  const flow = (name, fn) => test(name, async (t) => {
    try {
      await fn(t);
    } catch (e) {
      if (page) await shot(page, `FAILED-${name.replace(/\W+/g, '-').slice(0, 40)}`).catch(() => {});
      throw e;
    }
  });

  flow('sign in (a wrong password shows a message)', async () => {
    page = await newPage();
    await page.goto(URL + '/');
    assert.match(page.url(), /\/dashboard\/$/, '/ redirects to the dashboard');
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await alert(page).getByText('Invalid email or password').waitFor();
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Projects' }).waitFor();
    await shot(page, '01-signed-in');
  });

  flow('create a project (keys shown with copy buttons; a bad ref changes nothing)', async () => {
    const before = (await admin('GET', '/projects')).data.length;
    await page.getByLabel('Ref', { exact: true }).fill('Bad Ref!');
    await page.getByRole('button', { name: 'Create project' }).click();
    await alert(page).getByText(/Invalid project ref/).waitFor();
    assert.equal((await admin('GET', '/projects')).data.length, before);

    await page.getByLabel('Ref', { exact: true }).fill(REF);
    await page.getByLabel('Name', { exact: true }).fill('End to end');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('heading', { name: `Project ${REF} created` }).waitFor();
    keys.anon = await page.getByLabel('anon key', { exact: true }).textContent();
    keys.service = await page.getByLabel('service_role key', { exact: true }).textContent();
    assert.match(keys.anon, /\S{20,}/);
    await page.getByRole('button', { name: 'Copy service_role key' }).click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), keys.service);
    await page.getByRole('link', { name: REF, exact: true }).waitFor();
    assert.equal((await admin('GET', '/projects')).data.length, before + 1);
    await shot(page, '02-project-created');
  });

  flow('delete a project only after typing its ref', async () => {
    await admin('POST', '/projects', { ref: 'e2e-doomed' });
    await go(page, '/');
    await page.getByRole('button', { name: 'Delete project e2e-doomed' }).click();
    const dialog = page.getByRole('dialog');
    const del = dialog.getByRole('button', { name: 'Delete e2e-doomed' });
    assert.equal(await del.isDisabled(), true);
    await dialog.getByLabel('Type e2e-doomed to confirm').fill('e2e-doome');
    assert.equal(await del.isDisabled(), true);
    await dialog.getByLabel('Type e2e-doomed to confirm').fill('e2e-doomed');
    await del.click();
    await page.getByRole('link', { name: 'e2e-doomed' }).waitFor({ state: 'detached' });
    assert.equal((await admin('GET', '/projects/e2e-doomed')).status, 404);
  });

  flow('table editor: two tables with a foreign key, SQL shown before it runs', async (t) => {
    if (!(await available('GET', `/projects/${REF}/tables`))) t.todo('needs the /tables admin endpoints');
    await go(page, `/p/${REF}/tables`);
    await page.getByRole('heading', { level: 1, name: 'Table editor' }).waitFor();
    // Bad input: an invalid name is refused with a message, nothing is created.
    await page.getByLabel('Table name').fill('bad name;');
    await page.getByRole('button', { name: 'Review SQL' }).click();
    await alert(page).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Create table' }).count(), 0);

    await page.getByLabel('Table name').fill('authors');
    await page.getByRole('button', { name: 'Add column' }).click();
    const c2 = page.getByRole('group', { name: 'Column 2' });
    await c2.getByLabel('Name').fill('name');
    await c2.getByLabel('Type').fill('text');
    await c2.getByLabel('Nullable').uncheck();
    await page.getByRole('button', { name: 'Review SQL' }).click();
    const preview = page.getByLabel('SQL that will run');
    await preview.waitFor();
    assert.match(await preview.textContent(), /create table/i);
    await page.getByRole('button', { name: 'Create table' }).click();
    await page.getByRole('heading', { name: 'Table authors' }).waitFor();

    await page.getByRole('link', { name: '+ New table' }).click();
    await page.getByLabel('Table name').fill('books');
    await page.getByRole('button', { name: 'Add column' }).click();
    await page.getByRole('group', { name: 'Column 2' }).getByLabel('Name').fill('title');
    await page.getByRole('button', { name: 'Add column' }).click();
    const c3 = page.getByRole('group', { name: 'Column 3' });
    await c3.getByLabel('Name').fill('author_id');
    await c3.getByLabel('Type').fill('bigint');
    await c3.getByLabel('References table').selectOption('authors');
    await c3.getByLabel('On delete').selectOption('cascade');
    await page.getByRole('button', { name: 'Review SQL' }).click();
    assert.match(await page.getByLabel('SQL that will run').textContent(), /references/i);
    await shot(page, '03-table-editor-review');
    await page.getByRole('button', { name: 'Create table' }).click();
    await page.getByRole('heading', { name: 'Table books' }).waitFor();
    await page.getByRole('cell', { name: /→ authors/ }).waitFor();
    // Alter: a column gets a default, shown as SQL first.
    await page.getByText('Change a column').click();
    await page.getByLabel('Column to change').selectOption('title');
    await page.getByLabel('New default').fill("'untitled'");
    await page.getByRole('button', { name: 'Review SQL' }).first().click();
    assert.match(await page.getByLabel('SQL that will run').textContent(), /set default/i);
    await page.getByRole('button', { name: 'Change column' }).click();
    await page.getByRole('cell', { name: "'untitled'::text" }).waitFor();
    const tables = (await admin('GET', `/projects/${REF}/tables`)).data;
    const names = (Array.isArray(tables) ? tables : tables.tables).map((x) => x.name).sort();
    assert.deepEqual(names, ['authors', 'books']);
    await shot(page, '03-table-editor');
  });

  flow('data browser: insert, edit and delete rows; a bad value shows in place', async (t) => {
    if (!(await available('POST', `/projects/${REF}/rest/v1/authors`))) t.todo('needs data API writes');
    await go(page, `/p/${REF}/data?table=authors`);
    await page.getByRole('heading', { name: 'authors', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Insert row' }).click();
    let form = page.getByRole('form', { name: 'New row in authors' });
    await form.getByLabel(/^id/).fill('1');
    await form.getByLabel(/^name/).fill('Ada');
    await form.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('cell', { name: 'Ada', exact: true }).waitFor();

    await page.getByRole('button', { name: 'Insert row' }).click();
    form = page.getByRole('form', { name: 'New row in authors' });
    await form.getByLabel(/^id/).fill('not-a-number');
    await form.getByLabel(/^name/).fill('Nobody');
    await form.getByRole('button', { name: 'Save' }).click();
    await form.getByRole('alert').waitFor();
    await form.getByRole('button', { name: 'Cancel' }).click();
    const rows = (await admin('GET', `/projects/${REF}/rest/v1/authors`)).data;
    assert.deepEqual(rows.map((r) => r.name), ['Ada']);

    // Filters and sort map to the data API grammar (name=eq.Grace, order=id.desc).
    await page.getByRole('button', { name: 'Insert row' }).click();
    form = page.getByRole('form', { name: 'New row in authors' });
    await form.getByLabel(/^id/).fill('2');
    await form.getByLabel(/^name/).fill('Grace');
    await form.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('cell', { name: 'Grace', exact: true }).waitFor();
    const filters = page.getByRole('form', { name: 'Filter rows' });
    await filters.getByLabel('Column').selectOption('name');
    await filters.getByLabel('Value').fill('Grace');
    await filters.getByRole('button', { name: 'Add filter' }).click();
    await page.getByRole('cell', { name: 'Ada', exact: true }).waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Remove filter name eq Grace' }).click();
    await page.getByRole('cell', { name: 'Ada', exact: true }).waitFor();
    await filters.getByLabel('Sort by').selectOption('id');
    await filters.getByLabel('Direction').selectOption('desc');
    await page.waitForFunction(() => document.querySelector('table.grid tbody tr td')?.textContent === '2');
    page.once('dialog', (d) => d.accept());
    await page.getByRole('button', { name: 'Delete row 2' }).click();
    await page.getByRole('cell', { name: 'Grace', exact: true }).waitFor({ state: 'detached' });

    await page.getByRole('button', { name: 'Edit row 1' }).click();
    form = page.getByRole('form', { name: 'Edit row 1' });
    await form.getByLabel(/^name/).fill('Ada Lovelace');
    await form.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('cell', { name: 'Ada Lovelace', exact: true }).waitFor();
    await shot(page, '04-data-browser');

    page.once('dialog', (d) => d.accept());
    await page.getByRole('button', { name: 'Delete row 1' }).click();
    await page.getByText('No rows match.').waitFor();
    assert.deepEqual((await admin('GET', `/projects/${REF}/rest/v1/authors`)).data, []);
  });

  flow('SQL editor: results grid, and an error with its position marked', async () => {
    await go(page, `/p/${REF}/sql`);
    const sql = page.getByLabel('SQL', { exact: true });
    await sql.fill("select 1 as one, 'two' as two");
    await page.getByRole('button', { name: 'Run' }).click();
    await page.getByRole('columnheader', { name: 'two' }).waitFor();
    await page.getByRole('cell', { name: 'two', exact: true }).waitFor();
    await sql.fill('select 1;\nselec 2');
    await page.getByRole('button', { name: 'Run' }).click();
    await alert(page).getByText(/syntax error/).waitFor();
    await page.getByText('Error at line 2, character 11:').waitFor();
    assert.equal(await page.locator('.error-at mark').textContent(), 's');
    await shot(page, '05-sql-editor');
  });

  flow('users and access rules: create a user and a rule, then test access', async (t) => {
    if (!(await available('GET', `/projects/${REF}/users`)) || !(await available('GET', `/projects/${REF}/rules`))) t.todo('needs the users and rules admin endpoints');
    await go(page, `/p/${REF}/users`);
    // Bad input: a one-character password is refused, no user is made.
    await page.getByLabel('Email', { exact: true }).fill('weak@example.com');
    await page.getByLabel('Password', { exact: true }).fill('x');
    await page.getByRole('button', { name: 'Create user' }).click();
    await alert(page).waitFor();
    assert.equal((await admin('GET', `/projects/${REF}/users?email=weak@example.com`)).data.length, 0);
    await page.getByLabel('Email', { exact: true }).fill('reader@example.com');
    await page.getByLabel('Password', { exact: true }).fill('reader-password-1');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('cell', { name: 'reader@example.com', exact: true }).waitFor();
    await shot(page, '06-users');

    await go(page, `/p/${REF}/rules`);
    await page.getByRole('heading', { level: 2, name: 'Policies' }).waitFor();
    const beforeRules = (await admin('GET', `/projects/${REF}/rules`)).data;
    await page.getByRole('button', { name: 'Add policy' }).click();
    const last = page.getByRole('group', { name: /^Policy \d+$/ }).last();
    await last.getByLabel('Table').fill('authors');
    await last.getByLabel('Condition').fill('nonsense((');
    await page.getByRole('button', { name: 'Save rules' }).click();
    await alert(page).waitFor();
    assert.deepEqual((await admin('GET', `/projects/${REF}/rules`)).data, beforeRules, 'a rejected rule changes nothing');
    await last.getByLabel('Condition').fill('name=neq.secret');
    await page.getByRole('button', { name: 'Save rules' }).click();
    await page.getByRole('status').filter({ hasText: 'Rules saved' }).waitFor();
    const saved = (await admin('GET', `/projects/${REF}/rules`)).data.policies;
    assert.ok(saved.some((p) => p.role === 'authenticated' && p.table === 'authors' && p.action === 'select'), JSON.stringify(saved));

    await page.getByLabel('Role or user id').fill('authenticated');
    await page.getByLabel('Table', { exact: true }).last().fill('authors');
    await page.getByRole('button', { name: 'Check' }).click();
    await page.getByText('Allowed', { exact: true }).waitFor();
    await page.getByLabel('Role or user id').fill('anon');
    await page.getByRole('button', { name: 'Check' }).click();
    await page.getByText('Denied', { exact: true }).waitFor();
    await shot(page, '06-rules-test-access');
  });

  flow('rate limits: change a rule; a bad number changes nothing', async (t) => {
    if (!(await available('GET', `/projects/${REF}/rate-limits`))) t.todo('needs the rate-limits admin endpoint');
    await go(page, `/p/${REF}/limits`);
    await page.getByRole('heading', { level: 1, name: 'Rate limits' }).waitFor();
    const beforeLimits = (await admin('GET', `/projects/${REF}/rate-limits`)).data.rules;
    await page.getByRole('button', { name: 'Add rule' }).click();
    const rule = page.getByRole('group', { name: /^Rule \d+$/ }).last();
    await rule.getByLabel('Requests').fill('-5');
    await page.getByRole('button', { name: 'Save rate limits' }).click();
    await alert(page).waitFor();
    assert.deepEqual((await admin('GET', `/projects/${REF}/rate-limits`)).data.rules, beforeLimits);
    await rule.getByLabel('Requests').fill('1000');
    await rule.getByLabel('Burst').fill('1000');
    await page.getByRole('button', { name: 'Save rate limits' }).click();
    await page.getByRole('status').filter({ hasText: 'Rate limits saved' }).waitFor();
    const rules = (await admin('GET', `/projects/${REF}/rate-limits`)).data.rules;
    assert.ok(rules.some((r) => r.role === 'anon' && r.rate === 1000), JSON.stringify(rules));
    await shot(page, '07-rate-limits');
  });

  flow('settings: save a change; a bad value shows a message and changes nothing', async () => {
    await go(page, `/p/${REF}/settings`);
    const before = (await admin('GET', `/projects/${REF}/settings`)).data;
    await page.getByLabel('Max rows per response').fill('lots');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await alert(page).getByText(/max_rows/).waitFor();
    assert.deepEqual((await admin('GET', `/projects/${REF}/settings`)).data, before);
    await page.getByLabel('Max rows per response').fill('500');
    await page.getByLabel('CORS allowed origins').fill('https://app.example.com');
    await page.getByLabel('Allow anonymous sign-ins').selectOption('true');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('status').filter({ hasText: 'Settings saved' }).waitFor();
    const after = (await admin('GET', `/projects/${REF}/settings`)).data;
    assert.equal(after.max_rows, 500);
    assert.deepEqual(after.cors_origins, ['https://app.example.com']);
    assert.equal(after.auth.anonymous_sign_ins, true);
    await shot(page, '07-settings');
  });

  flow('usage chart moves after some requests', async (t) => {
    if (!(await available('GET', `/projects/${REF}/usage`))) t.todo('needs the usage endpoint');
    await go(page, `/p/${REF}`);
    const req = page.locator('[data-total="requests"]');
    await req.waitFor();
    const start = Number(await req.textContent());
    for (let i = 0; i < 12; i++) {
      await fetch(`${URL}/p/${REF}/rest/v1/authors?select=*`, { headers: { apikey: keys.anon } });
    }
    // Counters are flushed to Postgres every few seconds and the page polls.
    const deadline = Date.now() + 30_000;
    let now = start;
    while (Date.now() < deadline && now < start + 12) {
      await page.waitForTimeout(500);
      now = Number(await req.textContent());
    }
    assert.ok(now >= start + 12, `requests total went from ${start} to ${now}`);
    await shot(page, '08-usage');
  });

  flow('accounts: create the viewer\'s admin account; bad input changes nothing', async () => {
    await go(page, '/accounts');
    await page.getByRole('heading', { level: 1, name: 'Admin accounts' }).waitFor();
    const before = (await admin('GET', '/admins')).data.length;
    await page.getByLabel('Email', { exact: true }).fill(VIEWER.email);
    await page.getByLabel('Password', { exact: true }).fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    await alert(page).getByText(/password must be/).waitFor();
    assert.equal((await admin('GET', '/admins')).data.length, before);
    await page.getByLabel('Password', { exact: true }).fill(VIEWER.password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('cell', { name: VIEWER.email, exact: true }).waitFor();
    assert.equal((await admin('GET', '/admins')).data.length, before + 1);
  });

  flow('members: add a viewer, who can look but change nothing', async () => {
    await go(page, `/p/${REF}/members`);
    // Bad input: an email without an admin account.
    await page.getByLabel('Admin account email').fill('nobody@example.com');
    await page.getByRole('button', { name: 'Add member' }).click();
    await alert(page).getByText(/no admin account/).waitFor();
    await page.getByLabel('Admin account email').fill(VIEWER.email);
    await page.getByLabel('Role', { exact: true }).selectOption('viewer');
    await page.getByRole('button', { name: 'Add member' }).click();
    await page.getByRole('cell', { name: VIEWER.email, exact: true }).waitFor();
    const members = (await admin('GET', `/projects/${REF}/members`)).data;
    // The creator became the project's owner when the dashboard created it.
    assert.deepEqual(members.map((m) => `${m.email}=${m.role}`).sort(), [`${ADMIN.email}=owner`, `${VIEWER.email}=viewer`].sort());
    await shot(page, '09-members');

    const vp = await newPage();
    await signIn(vp, VIEWER);
    const projects = vp.getByRole('table').getByRole('link');
    assert.deepEqual(await projects.allTextContents(), [REF], 'a member sees only their projects');
    await go(vp, `/p/${REF}/settings`);
    await vp.getByText('You are a viewer of this project', { exact: false }).waitFor();
    const settingsBefore = (await admin('GET', `/projects/${REF}/settings`)).data;
    await vp.getByLabel('Max rows per response').fill('7');
    await vp.getByRole('button', { name: 'Save settings' }).click();
    await alert(vp).getByText(/viewer/).waitFor();
    assert.deepEqual((await admin('GET', `/projects/${REF}/settings`)).data, settingsBefore);
    await shot(vp, '09-viewer-denied');

    await go(vp, `/p/${REF}/sql`);
    await vp.getByLabel('SQL', { exact: true }).fill('create table sneaky (id int)');
    await vp.getByRole('button', { name: 'Run' }).click();
    await alert(vp).getByText(/viewer/).waitFor();
    await go(vp, `/p/${REF}/members`);
    await vp.getByLabel('Admin account email').fill('someone@example.com');
    await vp.getByRole('button', { name: 'Add member' }).click();
    await alert(vp).getByText(/viewer/).waitFor();
    assert.equal((await admin('GET', `/projects/${REF}/members`)).data.length, 2);
    await vp.getByRole('button', { name: 'Sign out' }).click();
    await vp.getByRole('heading', { level: 1, name: 'Sign in to Plinth' }).waitFor();
    await vp.context().close();
  });

  flow('no serious accessibility violations on the main pages', async () => {
    const pages = ['/', '/accounts', `/p/${REF}`, `/p/${REF}/tables`, `/p/${REF}/data?table=authors`, `/p/${REF}/sql`, `/p/${REF}/users`,
      `/p/${REF}/rules`, `/p/${REF}/limits`, `/p/${REF}/docs`, `/p/${REF}/settings`, `/p/${REF}/members`, `/p/${REF}/audit`];
    const problems = [];
    for (const p of pages) {
      await go(page, p);
      await page.getByRole('heading', { level: 1 }).waitFor();
      await page.waitForFunction(() => !document.querySelector('main')?.innerText.includes('Loading'));
      problems.push(...(await axe(page)).map((v) => `${p}: ${v}`));
    }
    const fresh = await newPage();
    await fresh.goto(URL + '/dashboard/');
    await fresh.getByRole('heading', { level: 1, name: 'Sign in to Plinth' }).waitFor();
    problems.push(...(await axe(fresh)).map((v) => `sign-in: ${v}`));
    await fresh.context().close();
    assert.deepEqual(problems, []);
  });

  flow('sign out ends the session', async () => {
    await go(page, '/');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in to Plinth' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Sign in to Plinth' }).waitFor();
    assert.deepEqual(cspErrors, [], 'no CSP violations or page errors');
  });
});

// axe runs axe-core in the page (injected through the DevTools protocol, so
// the strict CSP stays on) and returns its serious and critical violations.
async function axe(page) {
  await page.evaluate(axeSource);
  const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return res.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}
