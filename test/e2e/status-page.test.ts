import { existsSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoStack, type DemoStack } from '../../src/demo/stack.js';
import { githubDelivery, protectionRuleRequested, send } from '../../src/demo/github.js';
import { githubFixture, githubRequest } from '../fixtures/github-request.js';
import { SECRETS, eventually, startStack, type Stack } from '../support/stack.js';

/**
 * The status page in a real headless Chromium (Debian's, driven by playwright-core; no browser
 * download): what a person sees of a gate, and that it changes live when the CR is approved.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(
    `[status-page e2e] skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`,
  );
}

const TOKEN = randomBytes(24).toString('base64url');
const SCREENSHOT = 'test-results/status-page.png';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe.skipIf(!hasChromium)('status page in headless Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    stack = await startStack({ config: { web: { token: TOKEN } } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  const statusUrl = () => `${stack.receiver.url}/status`;

  it('answers 401 to a missing or wrong token and serves the page to the right one', async () => {
    const missing = await fetch(statusUrl());
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer /);
    const wrong = await fetch(statusUrl(), { headers: { authorization: 'Bearer not-the-token' } });
    expect(wrong.status).toBe(401);
    const events = await fetch(`${statusUrl()}/events`);
    expect(events.status).toBe(401);
    const right = await fetch(`${statusUrl()}/snapshot.json`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(right.status).toBe(200);

    const opened = await page.goto(statusUrl());
    expect(opened?.status()).toBe(401);
    await page.getByLabel('Status token').fill('wrong-token-typed-by-someone');
    await page.getByRole('button', { name: 'Open the status page' }).click();
    await page.getByText('That token is not valid.').waitFor();
    expect(await page.getByRole('heading', { name: 'Gates' }).count()).toBe(0);
  });

  it('shows a pending gate awaiting approval, then "released" live once the CR is approved', async () => {
    const callback = stack.ci.github.pending('acme', 'payments', 4242, 'production');
    const payload = githubFixture('deployment_protection_rule.requested');
    payload.deployment_callback_url = callback;
    payload.environment = 'production';
    const request = githubRequest('deployment_protection_rule', payload, {
      secret: SECRETS.github,
      deliveryId: 'status-page-1',
    });
    const res = await fetch(`${stack.receiver.url}/hooks/github`, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
    });
    expect(res.status).toBe(202);
    const cr = await eventually(() =>
      stack.servicenow.admin
        .records('change_request')
        .find(
          (r) =>
            r.correlation_id === 'github/acme/payments/run-4242-production' &&
            r.approval === 'requested',
        ),
    );

    // Sign in the way a person does: the token typed into the form sets the session cookie.
    await page.goto(statusUrl());
    await page.getByLabel('Status token').fill(TOKEN);
    await page.getByRole('button', { name: 'Open the status page' }).click();
    await page.getByRole('heading', { name: 'Gates' }).waitFor();
    await page.getByText('Live', { exact: false }).first().waitFor();

    const row = page.locator('#gates').getByRole('row').filter({ hasText: cr.number! });
    await row.getByText('awaiting approval', { exact: true }).waitFor({ timeout: 10_000 });
    expect(await row.textContent()).toContain('acme/payments → production');
    expect(stack.ci.received().filter((c) => c.effect === 'released')).toHaveLength(0);

    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/status-page-pending.png', fullPage: true });

    // A marker on the window and a navigation counter prove the update came without a reload.
    await page.evaluate('window.__sameDocument = true');
    let navigations = 0;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations += 1;
    });

    stack.servicenow.admin.approve(cr.number!);
    await row.getByText('released', { exact: true }).waitFor({ timeout: 15_000 });
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
    expect(navigations).toBe(0);
    expect(stack.ci.received().filter((c) => c.effect === 'released')).toHaveLength(1);
    expect(await row.getAttribute('data-status')).toBe('released');
    // The recent-changes table shows the decision too.
    await page
      .locator('#changes')
      .getByRole('row')
      .filter({ hasText: 'gate.released' })
      .filter({ hasText: cr.number! })
      .waitFor();

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
  });
});

describe.skipIf(!hasChromium)('status page of the sandbox demo in headless Chromium', () => {
  let demo: DemoStack;
  let browser: Browser;

  beforeAll(async () => {
    demo = await startDemoStack();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await demo?.close();
  });

  it('opens without a token and releases the gate when a person clicks Approve', async () => {
    const callbackUrl = demo.ci.github.pending('acme', 'storefront', 777, 'production');
    const delivery = githubDelivery(
      'deployment_protection_rule',
      protectionRuleRequested({
        owner: 'acme',
        repo: 'storefront',
        runId: 777,
        deploymentId: 9001,
        environment: 'production',
        sha: 'a'.repeat(40),
        title: 'Checkout redesign',
        callbackUrl,
      }),
      demo.secrets.github,
    );
    expect((await send(demo.receiver.url, delivery)).status).toBe(202);

    const page = await browser.newPage();
    await page.goto(`${demo.receiver.url}/status`);
    const row = page.locator('#gates').getByRole('row').filter({ hasText: 'acme/storefront' });
    await row.getByText('awaiting approval', { exact: true }).waitFor({ timeout: 10_000 });
    const number = (await row.getByRole('rowheader').textContent())!.trim();
    expect(number).toMatch(/^CHG\d+$/);

    await row.getByRole('button', { name: `Approve ${number}` }).click();
    // The click approves in the sandbox; its business rule pushes the update back to
    // /hooks/servicenow, the gate worker releases, and the page hears it over SSE.
    await row.getByText('released', { exact: true }).waitFor({ timeout: 15_000 });
    expect(page.url()).toBe(`${demo.receiver.url}/status`);
    const released = demo.ci.received().filter((c) => c.effect === 'released');
    expect(released).toHaveLength(1);
    const cr = demo.servicenow.admin.records('change_request').find((r) => r.number === number);
    expect(cr?.approval).toBe('approved');
  });
});
