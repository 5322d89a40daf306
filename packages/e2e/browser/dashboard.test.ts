import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { hashPassword } from '@jetcel/dashboard-service';
import { signIdentityToken } from '@jetcel/identity';
import { freePort, spawnService } from '@jetcel/testing';
import { Stack } from '../test/stack.ts';

// The dashboard end to end, in headless Chromium (Debian's `chromium`, driven by playwright-core): the
// dashboard refuses the anonymous, a user logs in, starts a create and watches it reach OK without a
// reload, cancels another, and re-drives a dead letter. Screenshots go to .test-output/browser/.

const CHROMIUM = '/usr/bin/chromium';
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const OUTPUT = resolve(root, '.test-output/browser');
const SKIP = existsSync(CHROMIUM) ? false : `SKIPPED: ${CHROMIUM} not found — install Debian's chromium`;
if (SKIP)
  process.stderr.write(
    `\n${'!'.repeat(80)}\n!!! ${SKIP}\n!!! The dashboard browser test did not run.\n${'!'.repeat(80)}\n\n`,
  );

const SECRET = `browser-test-${randomBytes(16).toString('hex')}`;
const PASSWORD = 'alice-browser-password';
const BOB_PASSWORD = 'bob-browser-password';
// Slow enough builds that an execution is still running when the test cancels it.
const BUILD_DELAY_MS = 6_000;

let stack: Stack | undefined;
let browser: Browser | undefined;
let page: Page;
let base: string;
const timings: Record<string, number> = {};
/** Script errors and console errors (a Content-Security-Policy violation is one). */
const pageErrors: string[] = [];

async function timed<T>(name: string, step: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await step();
  } finally {
    timings[name] = Date.now() - started;
  }
}

const shot = (name: string): Promise<Buffer> =>
  page.screenshot({ path: resolve(OUTPUT, `${name}.png`), fullPage: true });

/** The test's own checks go straight to jetcel, with a token of their own (the executor may deny anonymous commands). */
async function asAdmin(): Promise<Record<string, string>> {
  return { Authorization: `Bearer ${await signIdentityToken({ actor: 'e2e-test', roles: ['admin'] }, SECRET)}` };
}

/** A POST to the dashboard as bob, through his own session (login, CSRF token from the page). */
async function asBob(path: string): Promise<Response> {
  const login = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: 'bob', password: BOB_PASSWORD }).toString(),
  });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const page = await (await fetch(`${base}/`, { headers: { cookie } })).text();
  const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(page)?.[1] ?? '';
  return fetch(`${base}${path}`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf } });
}

before(async () => {
  if (SKIP) return;
  mkdirSync(OUTPUT, { recursive: true });
  await timed('stack start', async () => {
    stack = await Stack.start({
      buildDelayMs: BUILD_DELAY_MS,
      env: { JETCEL_AUTH_SECRET: SECRET, JETCEL_AUTH_ANONYMOUS: 'deny' },
    });
    await stack.spawn('executor');
    await stack.spawn('worker', { queue: 'regular' });
    const port = await freePort();
    const dashboard = await spawnService({
      cwd: resolve(root, 'services/dashboard'),
      entry: 'src/main.ts',
      env: {
        NATS_URL: stack.natsUrls.join(','),
        JETCEL_DASHBOARD_PORT: String(port),
        JETCEL_DASHBOARD_USERS: `alice:admin:${await hashPassword(PASSWORD)},bob::${await hashPassword(BOB_PASSWORD)}`,
        JETCEL_AUTH_SECRET: SECRET,
        JETCEL_DASHBOARD_REFRESH_MS: '500',
      },
      readyLine: /"dashboard ready"/,
      timeoutMs: 30_000,
    });
    stack.services.push(dashboard);
    base = `http://127.0.0.1:${port}`;
  });
  await timed('browser launch', async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(30_000);
    page.on('dialog', (dialog) => void dialog.accept());
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      // HTTP errors the page handles (401 before login, 501 from a query the executor lacks) are not script errors.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
        pageErrors.push(message.text());
    });
  });
});

after(async () => {
  await browser?.close().catch(() => {});
  await stack?.stop();
  if (!SKIP)
    process.stdout.write(
      `# dashboard browser test timings (ms): ${JSON.stringify(timings)}\n# screenshots: ${OUTPUT}\n`,
    );
});

test(
  'without a session nothing is reachable: the page sends the browser to the login form',
  { skip: SKIP },
  async () => {
    for (const path of ['/events', '/api/executions', '/api/resources', '/api/dead-letters', '/static/app.js'])
      assert.equal((await fetch(`${base}${path}`, { redirect: 'manual' })).status, 401, `GET ${path}`);
    for (const path of [
      '/api/instances',
      `/api/executions/${randomUUID()}/cancel`,
      `/api/dead-letters/${randomUUID()}/redrive`,
    ])
      assert.equal((await fetch(`${base}${path}`, { method: 'POST', redirect: 'manual' })).status, 401, `POST ${path}`);
    await page.goto(`${base}/`);
    assert.equal(new URL(page.url()).pathname, '/login');
    await page.fill('input[name=username]', 'alice');
    await page.fill('input[name=password]', 'not-her-password');
    await page.click('button[type=submit]');
    await page.locator('.error', { hasText: 'Wrong user name or password' }).waitFor();
    await shot('01-login-refused');
  },
);

test('log in, start a create and watch it reach OK live, without a reload', { skip: SKIP }, async () => {
  await timed('login', async () => {
    await page.fill('input[name=username]', 'alice');
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.locator('#live[data-live=on]').waitFor();
  });
  assert.equal(new URL(page.url()).pathname, '/');
  await page.evaluate('window.notReloaded = true'); // gone if the page reloads

  const { instanceId, executionId } = await timed('create', async () => {
    await page.click('nav a[data-tab=create]');
    await page.fill('#create-form input[name=name]', 'browser-vm-ok');
    await page.click('#create-form button[type=submit]');
    return {
      instanceId: await page.locator('[data-field=instanceId]').innerText(),
      executionId: await page.locator('[data-field=executionId]').innerText(),
    };
  });
  await shot('02-create-sent');

  await page.click('nav a[data-tab=resources]');
  const state = page.locator(`tr[data-resource-id="${instanceId}"] [data-field=state]`);
  const seen = new Set<string>();
  await timed('create reaches OK', async () => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const text = (await state.textContent().catch(() => null)) ?? '';
      if (text) seen.add(text);
      if (text === 'OK') break;
      assert.ok(Date.now() < deadline, `the instance never showed OK (saw ${[...seen].join(', ')})`);
      await page.waitForTimeout(100);
    }
  });
  assert.ok(seen.size > 1, `the page showed the state changing (${[...seen].join(' → ')})`);
  await shot('03-instance-ok');

  await page.click('nav a[data-tab=executions]');
  const row = page.locator(`tr[data-execution-id="${executionId}"]`);
  await row.locator('[data-field=status]', { hasText: 'succeeded' }).waitFor();
  assert.equal(await row.locator('td').nth(4).innerText(), 'alice', 'the execution ran as the logged-in user');
  await row.click();
  await page.locator('#detail [data-field=detail-status]', { hasText: 'succeeded' }).waitFor();
  assert.ok((await page.locator('#detail tr[data-step-id]').count()) >= 3, 'the step timeline is shown');
  await shot('04-execution-timeline');
  assert.equal(await page.evaluate('window.notReloaded'), true, 'the page was never reloaded');
});

test('cancel a running create from its row', { skip: SKIP }, async () => {
  await page.click('nav a[data-tab=create]');
  await page.fill('#create-form input[name=name]', 'browser-vm-cancel');
  await page.click('#create-form button[type=submit]');
  const executionId = await page.locator('[data-field=executionId]').innerText();
  // The buttons go through the executor's authorization: bob (no admin role) may not even see
  // alice's execution, so cancelling it is NOT_FOUND (what an unknown id gets).
  const refused = await asBob(`/api/executions/${executionId}/cancel`);
  assert.equal(refused.status, 404);
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
  await timed('cancel', async () => {
    await page.click('nav a[data-tab=executions]');
    const row = page.locator(`tr[data-execution-id="${executionId}"]`);
    await row.locator('button[data-action=cancel]').click();
    await row.locator('[data-field=status]', { hasText: /^cancelled$/ }).waitFor();
  });
  await page.locator('#flash', { hasText: 'Cancel requested.' }).waitFor();
  await page.locator(`tr[data-execution-id="${executionId}"]`).click();
  await page.locator('#detail [data-field=detail-status]', { hasText: /^cancelled$/ }).waitFor();
  await shot('05-cancelled');
  const execution = await stack!.ok<{ status: string; actor: string }>(
    'query.execution.get',
    { id: executionId },
    await asAdmin(),
  );
  assert.equal(execution.status, 'cancelled');
});

test('re-drive a dead letter', { skip: SKIP }, async () => {
  // A task message that names no known step: the worker dead-letters it (UNATTRIBUTABLE).
  await stack!.publishOrphanTask();
  await page.click('nav a[data-tab=dead-letters]');
  const row = page.locator('tr[data-reason=UNATTRIBUTABLE]').first();
  await timed('dead letter shown', () => row.waitFor());
  const id = await row.getAttribute('data-dead-letter-id');
  assert.ok(id);
  await shot('06-dead-letter');
  await timed('re-drive', async () => {
    await row.locator('button[data-action=redrive]').click();
    await page.locator(`tr[data-dead-letter-id="${id}"] [data-field=redrivenAt]`).filter({ hasText: /\d/ }).waitFor();
  });
  await page.locator('#flash', { hasText: 'Re-driven.' }).waitFor();
  // The message went back to tasks.regular, and (still naming no step) came back as a new dead letter.
  await page.locator('tr[data-reason=UNATTRIBUTABLE]').nth(1).waitFor();
  await shot('07-redriven');
  const letters = await stack!.ok<{ items: Array<{ id: string; redrivenAt: string | null }> }>(
    'query.dead_letter.list',
    {},
    await asAdmin(),
  );
  assert.ok(letters.items.find((letter) => letter.id === id)?.redrivenAt, 'jetcel recorded the re-drive');
});

test('queue depths, leases per scope (one held by a running create) and schedules', { skip: SKIP }, async () => {
  await page.click('nav a[data-tab=create]');
  await page.fill('#create-form input[name=name]', 'browser-vm-lease');
  await page.click('#create-form button[type=submit]');
  const executionId = await page.locator('[data-field=executionId]').innerText();
  await page.click('nav a[data-tab=leases]');
  await timed('lease shown', () =>
    page.locator(`tr[data-kind=instance_provision][data-scope=default] [data-execution-id="${executionId}"]`).waitFor(),
  );
  await shot('08-leases');
  await page.click('nav a[data-tab=queues]');
  await page.locator('tr[data-stream=TASKS_REGULAR][data-consumer=worker-regular]').waitFor();
  await page.locator('tr[data-stream=TASKS_REGULAR] td', { hasText: /\/s$/ }).first().waitFor(); // a rate, after two samples
  await shot('09-queues');
  await page.click('nav a[data-tab=schedules]');
  await page.locator('tr[data-schedule=instance-list-pull]').waitFor();
  await shot('10-schedules');
  await page.click('nav a[data-tab=resources]');
  await page.locator('#counts [data-type=instance] [data-state=OK]').waitFor();
  await shot('11-resources-by-state');
});

test('the page raised no script error and no CSP violation', { skip: SKIP }, () => {
  assert.deepEqual(pageErrors, []);
});
