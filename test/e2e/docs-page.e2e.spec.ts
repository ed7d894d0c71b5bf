import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { signUp } from '../factories/api.js';
import { createTestApp, type TestApp } from '../setup/app.js';

/**
 * The Scalar reference at /docs, rendered by a real headless Chromium (Debian's package; CI installs
 * it in .ci/run). The page must render the operations from /api/openapi.json entirely from this
 * server: the test machines have no Internet, and a docs page that needs a CDN is broken offline.
 */
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = '/tmp/docs-page.png';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`docs-page e2e skipped: ${CHROMIUM} not found (apt-get install -y chromium)`);
}
const itWithChromium = hasChromium ? it : it.skip;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
/** Schemes that never leave the browser. */
const LOCAL_SCHEMES = new Set(['data:', 'blob:', 'about:', 'chrome:', 'chrome-extension:']);

function leavesLoopback(url: string): boolean {
  const parsed = new URL(url);
  if (LOCAL_SCHEMES.has(parsed.protocol)) return false;
  return !LOOPBACK_HOSTS.has(parsed.hostname);
}

describe('GET /docs in headless Chromium', () => {
  let t: TestApp;
  let origin: string;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    origin = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await t?.close();
  });

  itWithChromium(
    'renders the API reference with the athletes operations, loading nothing from outside this server',
    async () => {
      // The docs page is public, but the API behind it is live: a signed-up user exists.
      await signUp(t, 'Docs Reader');

      // launch() gives the browser a fresh, empty profile directory of its own.
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();

      const requested: string[] = [];
      const failed: string[] = [];
      const pageErrors: string[] = [];
      page.on('request', (request) => requested.push(request.url()));
      page.on('requestfailed', (request) => {
        if (!leavesLoopback(request.url())) failed.push(`${request.url()}: ${request.failure()?.errorText ?? '?'}`);
      });
      page.on('pageerror', (error) => pageErrors.push(error.message));
      // Anything bound for another host is recorded above, then refused here (there is no Internet anyway).
      await context.route(
        (url) => leavesLoopback(url.href),
        (route) => route.abort('blockedbyclient'),
      );

      const documentLoaded = page.waitForResponse((response) => new URL(response.url()).pathname === '/api/openapi.json');
      const response = await page.goto(`${origin}/docs`, { waitUntil: 'load' });
      expect(response?.status()).toBe(200);
      // /docs redirects to /docs/ and the page is HTML.
      expect(new URL(page.url()).pathname).toBe('/docs/');
      expect(response?.headers()['content-type']).toMatch(/text\/html/);
      expect((await documentLoaded).status()).toBe(200);

      // Scalar renders the document: its title, then the tag groups in the sidebar.
      await page.getByText('Unified Activity API').first().waitFor({ state: 'visible', timeout: 30_000 });
      const athletesGroup = page.getByText('Athletes', { exact: true }).first();
      await athletesGroup.waitFor({ state: 'visible', timeout: 30_000 });
      // The first group (Auth) starts open; open Athletes to list its operations by summary.
      if (!(await page.getByText('List my athletes').first().isVisible())) await athletesGroup.click();
      await page.getByText('List my athletes').first().waitFor({ state: 'visible', timeout: 30_000 });
      await page.getByText('Create an athlete').first().waitFor({ state: 'visible', timeout: 30_000 });
      // ...and the operation itself is rendered in the content pane, not only named in the sidebar.
      await page.locator('h3', { hasText: 'List my athletes' }).first().waitFor({ state: 'visible', timeout: 30_000 });
      const text = await page.locator('body').innerText();
      for (const expected of ['Activity types', 'Auth', '/auth/sign-in/email', 'Get one athlete', 'Update an athlete', 'Delete an athlete']) {
        expect(text).toContain(expected);
      }
      await page.screenshot({ path: SCREENSHOT });

      const external = requested.filter(leavesLoopback);
      if (external.length > 0) console.error(`The docs page requested non-loopback URLs:\n${external.join('\n')}`);
      expect(external).toEqual([]);
      // Every request went to this server (or stayed in the browser).
      expect(requested.filter((url) => url.startsWith('http')).every((url) => url.startsWith(origin))).toBe(true);
      expect(failed).toEqual([]);
      expect(pageErrors).toEqual([]);
    },
    120_000,
  );

  /** A fresh browser context (own cookies) on a page of this server, refusing anything bound elsewhere. */
  async function openPage(path: string) {
    browser ??= await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run'] });
    const pageContext = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    await pageContext.route(
      (url) => leavesLoopback(url.href),
      (route) => route.abort('blockedbyclient'),
    );
    const page = await pageContext.newPage();
    const external: string[] = [];
    page.on('request', (request) => {
      if (leavesLoopback(request.url())) external.push(request.url());
    });
    await page.goto(`${origin}${path}`, { waitUntil: 'load' });
    return { page, pageContext, external };
  }

  /** The athlete of the session the browser context holds (its cookie), read with the same cookie. */
  async function myAthleteId(pageContext: BrowserContext): Promise<string> {
    const response = await pageContext.request.get(`${origin}/api/v1/athletes`);
    expect(response.status()).toBe(200);
    return ((await response.json()) as { items: { id: string }[] }).items[0]!.id;
  }

  const EXAMPLE_ATHLETE = '00000000-0000-4000-8000-000000000000';

  /** Clicks and returns the status of the API response the click caused. */
  async function statusAfter(page: Page, method: string, path: string, click: () => Promise<void>): Promise<number> {
    const [response] = await Promise.all([
      page.waitForResponse((candidate) => candidate.request().method() === method && new URL(candidate.url()).pathname === path, { timeout: 30_000 }),
      click(),
    ]);
    return response.status();
  }

  itWithChromium(
    'Scalar at 127.0.0.1: signs up and creates an activity from the pre-filled requests, with no Internet-only buttons',
    async () => {
      const { page, pageContext, external } = await openPage('/docs/');
      try {
        await page.getByText('Unified Activity API').first().waitFor({ state: 'visible', timeout: 60_000 });
        const body = await page.locator('body').innerText();
        for (const button of ['Ask AI', 'Generate MCP', 'Deploy', 'Share']) expect({ button, shown: body.includes(button) }).toEqual({ button, shown: false });
        // The favicon and the link to Swagger UI.
        expect(await page.locator('link[rel~="icon"]').first().getAttribute('href')).toBe('/favicon.svg');
        expect(await page.locator('a[href="/docs/swagger"]').count()).toBeGreaterThan(0);

        // Sign-up: the page's own example, sent as it is pre-filled except for a unique email.
        await page.getByRole('button', { name: /Test Request\s*\(post \/auth\/sign-up\/email\)/ }).click();
        const signUpEditor = page.locator('.cm-content').first();
        await signUpEditor.waitFor({ timeout: 30_000 });
        const prefilled = JSON.parse(await signUpEditor.innerText()) as { email: string; password: string; name: string };
        expect(prefilled).toEqual({ name: expect.any(String), email: expect.any(String), password: expect.any(String) });
        await signUpEditor.click();
        await page.keyboard.press('Control+A');
        await page.keyboard.insertText(JSON.stringify({ ...prefilled, email: `scalar-${Date.now()}@example.com` }));
        expect(await statusAfter(page, 'POST', '/api/auth/sign-up/email', () => page.getByRole('button', { name: /^Send/ }).first().click())).toBe(200);

        // Create activity: the pre-filled example with only its placeholder athleteId replaced; the session cookie authenticates.
        const athleteId = await myAthleteId(pageContext);
        await page.goto(`${origin}/docs/#tag/activities/POST/v1/activities`, { waitUntil: 'load' });
        await page.reload({ waitUntil: 'load' });
        await page.getByRole('button', { name: /Test Request\s*\(post \/v1\/activities\)$/ }).first().click();
        const createEditor = page.locator('.cm-content').first();
        await createEditor.waitFor({ timeout: 30_000 });
        const example = await createEditor.innerText();
        expect(example).toContain(EXAMPLE_ATHLETE);
        // No optional field pre-filled with "" (which the API would refuse).
        expect(example).not.toContain('""');
        await createEditor.click();
        await page.keyboard.press('Control+A');
        await page.keyboard.insertText(example.replace(EXAMPLE_ATHLETE, athleteId));
        expect(await statusAfter(page, 'POST', '/api/v1/activities', () => page.getByRole('button', { name: /^Send/ }).first().click())).toBe(201);
        const list = await pageContext.request.get(`${origin}/api/v1/activities`);
        expect(((await list.json()) as { items: { athleteId: string }[] }).items).toEqual([expect.objectContaining({ athleteId })]);
        expect(external).toEqual([]);
      } finally {
        await pageContext.close();
      }
    },
    180_000,
  );

  itWithChromium(
    'Swagger UI at /docs/swagger: signs up and creates an activity with "Try it out", fully offline',
    async () => {
      const { page, pageContext, external } = await openPage('/docs/swagger/');
      try {
        const signUpOperation = page.locator('#operations-Auth-signUpWithEmailAndPassword');
        await signUpOperation.waitFor({ timeout: 60_000 });
        await signUpOperation.locator('.opblock-summary').first().click();
        await signUpOperation.getByRole('button', { name: 'Try it out' }).click();
        const signUpBody = signUpOperation.locator('textarea.body-param__text');
        const prefilled = JSON.parse(await signUpBody.inputValue()) as Record<string, string>;
        await signUpBody.fill(JSON.stringify({ ...prefilled, email: `swagger-${Date.now()}@example.com` }));
        expect(await statusAfter(page, 'POST', '/api/auth/sign-up/email', () => signUpOperation.getByRole('button', { name: 'Execute' }).click())).toBe(200);

        const athleteId = await myAthleteId(pageContext);
        const createOperation = page.locator('#operations-Activities-createActivity');
        await createOperation.locator('.opblock-summary').first().click();
        await createOperation.getByRole('button', { name: 'Try it out' }).click();
        const createBody = createOperation.locator('textarea.body-param__text');
        const example = await createBody.inputValue();
        expect(example).toContain(EXAMPLE_ATHLETE);
        await createBody.fill(example.replace(EXAMPLE_ATHLETE, athleteId));
        expect(await statusAfter(page, 'POST', '/api/v1/activities', () => createOperation.getByRole('button', { name: 'Execute' }).click())).toBe(201);
        await createOperation.locator('.live-responses-table .response-col_status').filter({ hasText: '201' }).first().waitFor({ timeout: 30_000 });
        expect(external).toEqual([]);
      } finally {
        await pageContext.close();
      }
    },
    180_000,
  );
});

