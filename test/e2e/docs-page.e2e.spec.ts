import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
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
});
