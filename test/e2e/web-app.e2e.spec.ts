import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page, type Response } from 'playwright-core';
import { fitActivityFixture } from '../../libs/testing/fit-builder.js';
import { webAppDirectory } from '../../src/modules/api/web-app.js';
import { appleHealthExport, gpxDocument, trackPoints } from '../factories/imports.js';
import { defaultStravaAthlete, startFakeStrava, type FakeStrava } from '../fakes/strava/index.js';
import { createTestApp, testEnv, type TestApp } from '../setup/app.js';

/**
 * The web app at /app in a real headless Chromium (Debian's package; CI installs it in .ci/run):
 * sign up, import two FIT files by drag and drop, the timeline with local times and totals, one
 * activity's charts and route, a rename that persists, sign out. Nothing may be requested from
 * anywhere but this server; axe-core finds no serious or critical accessibility violation.
 * Screenshots go to artifacts/web-app/ (ignored by git; CI keeps them as artefacts).
 */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'artifacts', 'web-app');
const built = existsSync(join(webAppDirectory(), 'index.html'));
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`web-app e2e skipped: ${CHROMIUM} not found (apt-get install -y chromium)`);
if (!built) console.warn('web-app e2e skipped: the web app is not built (npm run build)');
const itWithChromium = hasChromium && built ? it : it.skip;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const LOCAL_SCHEMES = new Set(['data:', 'blob:', 'about:', 'chrome:', 'chrome-extension:']);
function leavesLoopback(url: string): boolean {
  const parsed = new URL(url);
  return !LOCAL_SCHEMES.has(parsed.protocol) && !LOOPBACK_HOSTS.has(parsed.hostname);
}

const RUN_CHANNELS = { heartRate: true, position: true, altitude: true, speed: true, distance: true, cadence: true };
/** A one-hour run in Zurich (08:00 local, CEST) with three laps: 3,600 heart-rate samples, more than a chart is wide. */
const run = fitActivityFixture({ sport: 'running', startTime: new Date('2024-05-01T06:00:00Z'), seconds: 3600, laps: 3, channels: RUN_CHANNELS });
/** A ride in New York the next evening (18:30 local, EDT). */
const ride = fitActivityFixture({
  sport: 'cycling',
  startTime: new Date('2024-05-02T22:30:00Z'),
  seconds: 1800,
  channels: { ...RUN_CHANNELS, power: true },
  origin: { latitudeDeg: 40.7128, longitudeDeg: -74.006 },
});

// The page's globals, for the functions Playwright runs in the browser (this project's lib has no DOM).
declare const window: object;
declare const document: unknown;
declare function scrollTo(x: number, y: number): void;
declare class DataTransfer {
  items: { add(file: File): void };
}
declare class DragEvent {
  constructor(type: string, init: { dataTransfer: DataTransfer; bubbles: boolean; cancelable: boolean });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown }[];
}

/** axe-core in the page: the violations of impact serious or critical. */
async function seriousViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const result = await (window as { axe: { run: (context: unknown) => Promise<{ violations: AxeViolation[] }> } }).axe.run(document);
    return result.violations.map(({ id, impact, help, nodes }) => ({ id, impact, help, nodes: nodes.map((node) => ({ target: node.target })) }));
  });
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id} (${violation.impact}): ${violation.help} at ${JSON.stringify(violation.nodes.map((node) => node.target))}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The `json` of an oRPC RPC answer (its meta only says which values are Dates). */
async function rpcJson(response: Response): Promise<Record<string, unknown>> {
  return ((await response.json()) as { json: Record<string, unknown> }).json;
}

describe('the web app at /app in headless Chromium', () => {
  let t: TestApp;
  let origin: string;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    t = await createTestApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    origin = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await t?.close();
  });

  it('serves the page with a CSP that allows only this origin, and hashed assets as immutable', async () => {
    const page = await t.http().get('/app/');
    if (!built) return;
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("connect-src 'self'");
    const script = /src="(\/app\/assets\/[^"]+\.js)"/.exec(page.text)?.[1];
    expect(script).toBeDefined();
    const asset = await t.http().get(script!);
    expect(asset.status).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    expect((await t.http().get('/app/assets/nothing-here.js')).status).toBe(404);
  });

  itWithChromium(
    'sign up → import two FIT files by drag and drop → timeline → activity charts and route → rename → sign out, all from 127.0.0.1',
    async () => {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
      context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'Asia/Tokyo', locale: 'en-GB' });
      const page = await context.newPage();
      const requested: string[] = [];
      const pageErrors: string[] = [];
      page.on('request', (request) => requested.push(request.url()));
      page.on('pageerror', (error) => pageErrors.push(error.message));
      // What the page's CSP refused (an inline style or script, a tile from elsewhere): nothing may be.
      const refused: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) refused.push(message.text());
      });
      await context.route(
        (url) => leavesLoopback(url.href),
        (route) => route.abort('blockedbyclient'),
      );

      // --- sign up
      await page.goto(`${origin}/app/`, { waitUntil: 'load' });
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      expect(await seriousViolations(page)).toEqual([]);
      await page.getByRole('button', { name: 'Create an account' }).click();
      await page.getByLabel('Name').fill('Ada Web');
      await page.getByLabel('Email').fill(`web-${Date.now()}@example.test`);
      await page.getByLabel('Password').fill('correct horse battery staple');
      await page.getByRole('button', { name: 'Sign up' }).click();
      await page.getByRole('heading', { name: 'Timeline' }).waitFor();
      await page.getByText('No activities yet').waitFor();

      // --- import: two FIT files dropped on the drop zone
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Import' }).click();
      await page.getByRole('heading', { name: 'Import' }).waitFor();
      const files = [
        { name: 'zurich-run.fit', base64: Buffer.from(run.bytes).toString('base64') },
        { name: 'new-york-ride.fit', base64: Buffer.from(ride.bytes).toString('base64') },
      ];
      await page.getByTestId('dropzone').evaluate((zone, dropped) => {
        const transfer = new DataTransfer();
        for (const file of dropped) {
          const bytes = Uint8Array.from(atob(file.base64), (char) => char.charCodeAt(0));
          transfer.items.add(new File([bytes], file.name, { type: 'application/vnd.ant.fit' }));
        }
        zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }) as unknown as Event);
        zone.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }) as unknown as Event);
      }, files);
      await page.locator('.uploads > li[data-state="done"]').nth(1).waitFor({ timeout: 60_000 });
      expect(await page.locator('.result[data-status="created"]').count()).toBe(2);
      expect(await page.locator('.uploads').innerText()).toMatch(/zurich-run\.fit: created/);
      expect(await seriousViolations(page)).toEqual([]);

      // A copy of the run entered by hand: one duplicate group, one row (the file is the primary by the default priority).
      const athleteId = ((await (await context.request.get(`${origin}/api/v1/athletes`)).json()) as { items: { id: string }[] }).items[0]!.id;
      const copy = await context.request.post(`${origin}/api/v1/activities`, {
        data: { athleteId, activityType: 'running', source: 'manual', name: 'Run (typed in)', startTime: '2024-05-01T06:00:00Z', endTime: '2024-05-01T07:00:00Z', timeZone: 'Europe/Zurich', durationS: 3600 },
      });
      expect(copy.status()).toBe(201);

      // --- timeline: newest first, local times in each activity's own zone (the browser is in Tokyo), totals
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Timeline' }).click();
      const rows = page.locator('li.row');
      await rows.nth(1).waitFor();
      expect(await rows.count()).toBe(2);
      const [rideRow, runRow] = [await rows.nth(0).innerText(), await rows.nth(1).innerText()];
      expect(rideRow).toContain('Thu, 2 May 2024, 18:30'); // 22:30Z in New York
      expect(runRow).toContain('Wed, 1 May 2024, 08:00'); // 06:00Z in Zurich
      expect(runRow).toContain('1:00:00');
      expect(rideRow).toContain('30:00');
      expect(runRow).toContain('File');
      // The group's row names both sources and opens to its other member.
      expect(runRow).toContain('Manual');
      await rows.nth(1).getByRole('button', { name: '1 copy' }).click();
      await rows.nth(1).getByRole('link', { name: 'Run (typed in)' }).waitFor();
      const totals = (await (await context.request.get(`${origin}/api/v1/activities?includeTotals=true`)).json()) as { totals: { count: number; distanceM: number; durationS: number } };
      expect(totals.totals).toMatchObject({ count: 2, durationS: 5400 });
      const totalsText = await page.getByTestId('totals').innerText();
      expect(totalsText).toContain('2 activities');
      expect(totalsText).toContain(`${(totals.totals.distanceM / 1000).toFixed(2)} km`);
      expect(totalsText).toContain('1 h 30 min');
      // One week (Mon 29 Apr – Sun 5 May 2024), with its totals by category.
      expect(await page.locator('section.week').count()).toBe(1);
      const weekText = await page.locator('.week-totals').innerText();
      expect(weekText).toMatch(/2 activities/);
      expect(weekText).toMatch(/Running: 1/);
      expect(weekText).toMatch(/Cycling: 1/);
      expect(await seriousViolations(page)).toEqual([]);
      await page.screenshot({ path: join(ARTIFACTS, 'timeline.png'), fullPage: true });
      // Filters: the category narrows the list and its totals.
      await page.getByLabel('Category').selectOption('cycling');
      await page.getByTestId('totals').filter({ hasText: '1 activity' }).waitFor();
      expect(await rows.count()).toBe(1);
      expect(await rows.nth(0).innerText()).toContain('18:30');
      await page.getByLabel('Category').selectOption('');
      await rows.nth(1).waitFor();

      // --- the run: heart-rate chart downsampled to its width, route with points, laps
      const streamAnswers: Response[] = [];
      page.on('response', (response) => {
        if (new URL(response.url()).pathname === '/api/rpc/streams/get') streamAnswers.push(response);
      });
      await rows.nth(1).getByRole('link').first().click();
      await page.getByRole('heading', { name: 'Summary' }).waitFor();
      const heartRate = page.locator('figure.chart[data-stream-type="heart_rate"][data-points]');
      await heartRate.waitFor({ timeout: 30_000 });
      const route = page.locator('figure.route svg path[data-points]');
      await route.waitFor({ timeout: 30_000 });
      const answers = await Promise.all(streamAnswers.map(rpcJson));
      const heartRateAnswer = answers.find((answer) => answer.streamType === 'heart_rate')!;
      expect(heartRateAnswer).toMatchObject({ sampleCount: 3601, downsampled: true });
      const plotWidth = await heartRate.locator('.plot').evaluate((element) => Math.floor(element.clientWidth));
      expect(heartRateAnswer.returnedCount).toBeLessThanOrEqual(plotWidth);
      expect(Number(await heartRate.getAttribute('data-points'))).toBe(heartRateAnswer.returnedCount);
      expect((heartRateAnswer.timestamps as number[]).length).toBe(heartRateAnswer.returnedCount);
      // What uPlot holds is what the API answered.
      expect(await heartRate.locator('canvas').count()).toBe(1);
      const routePoints = Number(await route.getAttribute('data-points'));
      const positionAnswer = answers.find((answer) => answer.streamType === 'position')!;
      expect(routePoints).toBeGreaterThan(10);
      expect(routePoints).toBe(positionAnswer.returnedCount);
      expect(((await route.getAttribute('d')) ?? '').match(/[ML]/g)?.length).toBe(routePoints);
      for (const type of ['speed', 'altitude', 'cadence']) {
        await page.locator(`figure.chart[data-stream-type="${type}"][data-points]`).waitFor();
      }
      expect(await page.locator('section[aria-labelledby="laps"] tbody tr').count()).toBe(3);
      expect(await page.locator('.summary').innerText()).toContain('Europe/Zurich');
      expect(await page.getByRole('link', { name: 'Original file' }).getAttribute('href')).toMatch(/^\/api\/v1\/activities\/[0-9a-f-]{36}\/original$/);
      // The track as GPX: the link answers the file (same origin, the session cookie).
      const gpxHref = await page.getByRole('link', { name: 'Track (GPX)' }).getAttribute('href');
      expect(gpxHref).toMatch(/^\/api\/v1\/activities\/[0-9a-f-]{36}\/gpx$/);
      const gpx = await page.evaluate(async (href) => {
        const response = await fetch(href!);
        return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
      }, gpxHref);
      expect(gpx).toMatchObject({ status: 200, type: expect.stringMatching(/^application\/gpx\+xml/) });
      expect(gpx.text.match(/<trkpt /g)!.length).toBeGreaterThan(100);
      expect(await seriousViolations(page)).toEqual([]);
      await page.screenshot({ path: join(ARTIFACTS, 'activity.png'), fullPage: true });
      // The top of the page (README's picture: docs/web-app-activity.png).
      await page.setViewportSize({ width: 1280, height: 1120 });
      await page.evaluate(() => scrollTo(0, 0));
      await page.screenshot({ path: join(ARTIFACTS, 'activity-top.png') });
      await page.setViewportSize({ width: 1280, height: 900 });

      // --- km → mi is a preference kept across reloads
      await page.getByLabel('Units').selectOption('imperial');
      await page.locator('.summary').getByText(/ mi$/).first().waitFor();

      // --- rename and change type; both persist after a reload
      await page.getByLabel('Name', { exact: true }).fill('Lakeside tempo run');
      await page.getByLabel('Type', { exact: true }).selectOption('trail_running');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
      await page.reload({ waitUntil: 'load' });
      await page.getByRole('heading', { name: 'Lakeside tempo run' }).waitFor();
      expect(await page.getByLabel('Type', { exact: true }).inputValue()).toBe('trail_running');
      expect(await page.locator('.summary').innerText()).toMatch(/ mi\b/);

      // --- sign out: the session is gone
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      expect((await context.request.get(`${origin}/api/v1/activities`)).status()).toBe(401);

      const external = requested.filter(leavesLoopback);
      expect(external).toEqual([]);
      expect(requested.filter((url) => url.startsWith('http')).every((url) => url.startsWith(origin))).toBe(true);
      expect(pageErrors).toEqual([]);
      expect(refused).toEqual([]);
    },
    180_000,
  );
});

/** One grey 1 × 1 PNG, whatever the tile asked for. */
const TILE_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGO4BwAAvgC9QodJ5wAAAABJRU5ErkJggg==', 'base64');

describe('MAP_TILE_URL', () => {
  let t: TestApp;
  let tiles: HttpServer | undefined;
  let browser: Browser | undefined;
  const tileRequests: string[] = [];
  beforeAll(async () => {
    t = await createTestApp({ MAP_TILE_URL: 'https://tiles.example.org/osm/{z}/{x}/{y}.png' });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await new Promise((resolve) => (tiles ? tiles.close(resolve) : resolve(undefined)));
  });

  itWithChromium('draws the route on tiles from the tile server, and on nothing else', async () => {
    tiles = createHttpServer((request, response) => {
      tileRequests.push(request.url ?? '');
      response.writeHead(200, { 'content-type': 'image/png' }).end(TILE_PNG);
    });
    await new Promise<void>((resolve) => tiles!.listen(0, '127.0.0.1', resolve));
    const tileUrl = `http://127.0.0.1:${(tiles.address() as AddressInfo).port}/{z}/{x}/{y}.png`;
    const app = await createTestApp({ MAP_TILE_URL: tileUrl });
    try {
      await app.app.listen({ port: 0, host: '127.0.0.1' });
      const appOrigin = `http://127.0.0.1:${(app.app.getHttpServer().address() as AddressInfo).port}`;
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
      const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
      const refused: string[] = [];
      const page = await context.newPage();
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) refused.push(message.text());
      });
      const signedUp = await context.request.post(`${appOrigin}/api/auth/sign-up/email`, { data: { name: 'Tile Viewer', email: `tiles-${Date.now()}@example.test`, password: 'correct horse battery staple' } });
      expect(signedUp.status()).toBe(200);
      const athleteId = ((await (await context.request.get(`${appOrigin}/api/v1/athletes`)).json()) as { items: { id: string }[] }).items[0]!.id;
      const imported = await context.request.post(`${appOrigin}/api/v1/athletes/${athleteId}/imports`, {
        multipart: { files: { name: 'ride.fit', mimeType: 'application/vnd.ant.fit', buffer: Buffer.from(ride.bytes) } },
      });
      const activityId = ((await imported.json()) as { files: { activityIds: string[] }[] }).files[0]!.activityIds[0]!;
      await page.goto(`${appOrigin}/app/#/activity/${activityId}`, { waitUntil: 'load' });
      await page.locator('figure.route svg path[data-points]').waitFor({ timeout: 30_000 });
      const images = page.locator('figure.route svg image');
      expect(await images.count()).toBeGreaterThan(0);
      const hrefs = await images.evaluateAll((nodes) => nodes.map((node) => node.getAttribute('href') ?? ''));
      expect(hrefs.every((href) => /^http:\/\/127\.0\.0\.1:\d+\/\d+\/\d+\/\d+\.png$/.test(href))).toBe(true);
      // New York at the route's zoom level: the browser fetched the tiles drawn, from the tile server only.
      for (let i = 0; i < 100 && tileRequests.length < hrefs.length; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(tileRequests.length).toBeGreaterThanOrEqual(hrefs.length);
      expect(refused).toEqual([]);
      await context.close();
    } finally {
      await app.close();
    }
  }, 120_000);

  it('is handed to the page, and only its origin is added to the images the page may load', async () => {
    const page = await t.http().get('/app/');
    if (!built) return;
    expect(page.text).toContain('<meta name="map-tile-url" content="https://tiles.example.org/osm/{z}/{x}/{y}.png">');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toMatch(/img-src 'self' data: blob: https:\/\/tiles\.example\.org(;|$)/);
    expect(csp).toContain("connect-src 'self'");
  });

  it('must be an http(s) URL with {z}, {x} and {y}', () => {
    expect(() => testEnv('/tmp', { MAP_TILE_URL: 'https://tiles.example.org/tile.png' })).toThrow(/MAP_TILE_URL/);
    expect(() => testEnv('/tmp', { MAP_TILE_URL: 'javascript:alert(1)//{z}{x}{y}' })).toThrow(/MAP_TILE_URL/);
  });
});

describe('the web app: connections, an Apple Health folder, source priority and export in headless Chromium', () => {
  let t: TestApp;
  let strava: FakeStrava;
  let origin: string;
  let browser: Browser | undefined;

  beforeAll(async () => {
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    strava = await startFakeStrava({ clientId: `web-app-${process.pid}-${Date.now()}`, athletes: [defaultStravaAthlete(880_000_000 + Math.floor(Math.random() * 1e7))], activities: 3 });
    t = await createTestApp({
      PUBLIC_URL: origin,
      STRAVA_CLIENT_ID: strava.clientId,
      STRAVA_CLIENT_SECRET: strava.clientSecret,
      STRAVA_OAUTH_URL: strava.oauthUrl,
      STRAVA_API_URL: strava.apiUrl,
      // The export job runs in this app.
      IMPORT_WORKERS: '1',
    });
    await t.app.listen({ port, host: '127.0.0.1' });
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await strava?.close();
  });

  itWithChromium(
    'connects Strava (backfill progress, then its activities on the timeline), imports an Apple Health folder, reorders sources, exports and disconnects',
    async () => {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'] });
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const requested: string[] = [];
      const page = await context.newPage();
      page.on('request', (request) => requested.push(request.url()));
      page.on('dialog', (dialog) => void dialog.accept());
      await context.route(
        (url) => leavesLoopback(url.href),
        (route) => route.abort('blockedbyclient'),
      );

      const response = await context.request.post(`${origin}/api/auth/sign-up/email`, { data: { name: 'Sam Sources', email: `sources-${Date.now()}@example.test`, password: 'correct horse battery staple' } });
      expect(response.status()).toBe(200);
      await page.goto(`${origin}/app/#/settings`, { waitUntil: 'load' });
      await page.getByRole('heading', { name: 'Sources & export' }).waitFor();

      // Only the configured provider is offered; connecting goes through the (fake) consent page and back here.
      const connections = page.locator('section[aria-labelledby="connections"]');
      await connections.getByRole('button', { name: 'Connect' }).waitFor();
      expect(await connections.innerText()).not.toContain('Garmin');
      await connections.getByRole('button', { name: 'Connect' }).click();
      await page.waitForURL(`${origin}/app/#/settings`);
      await connections.getByText(/history: \d+ fetched/).waitFor({ timeout: 30_000 });
      await connections.getByText('history: 3 fetched, 0 to go (done)').waitFor({ timeout: 60_000 });
      expect(await seriousViolations(page)).toEqual([]);
      await page.screenshot({ path: join(ARTIFACTS, 'settings.png'), fullPage: true });

      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Timeline' }).click();
      await page.locator('li.row').nth(2).waitFor();
      expect(await page.locator('li.row .badge.source-strava').count()).toBe(3);

      // Source priority: Strava moved to the top with the keyboard-reachable buttons, then saved.
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sources & export' }).click();
      const before = (await (await context.request.get(`${origin}/api/v1/athletes`)).json()) as { items: { id: string }[] };
      const athleteId = before.items[0]!.id;
      const priorities = async () => ((await (await context.request.get(`${origin}/api/v1/athletes/${athleteId}/source-priorities`)).json()) as { default: string[] }).default;
      const initial = await priorities();
      for (let i = initial.indexOf('strava'); i > 0; i--) await page.getByRole('button', { name: 'Move Strava up' }).click();
      await page.getByRole('button', { name: 'Save order' }).click();
      await page.getByRole('status').filter({ hasText: /^Saved/ }).waitFor();
      expect((await priorities())[0]).toBe('strava');

      // An unpacked Apple Health export dropped as a folder: zipped in the page, sent as one file.
      const health = appleHealthExport(new Date('2024-03-04T07:00:00Z'), trackPoints(120));
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Import' }).click();
      await page.getByTestId('dropzone').evaluate((zone, dropped) => {
        const transfer = new DataTransfer();
        for (const [name, text] of dropped) transfer.items.add(new File([text], name, { type: 'text/xml' }));
        zone.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }) as unknown as Event);
      }, [['apple_health_export/export.xml', health.xml], ['apple_health_export/workout-routes/route_run.gpx', gpxDocument(new Date('2024-03-04T07:00:00Z'), trackPoints(120), 'Route')]] as [string, string][]);
      const upload = page.locator('.uploads > li[data-state="done"]');
      await upload.waitFor({ timeout: 60_000 });
      expect(await upload.locator('strong').first().innerText()).toBe('apple_health_export.zip');
      expect(await upload.locator('.result[data-status="created"]').count()).toBe(1);
      expect(await upload.innerText()).toMatch(/apple_health_export\.zip.*: created/);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sources & export' }).click();

      // Export: the job runs, then its download link answers the zip.
      await page.getByRole('button', { name: 'Export all my data' }).click();
      const download = page.getByRole('link', { name: /Download the export/ });
      await download.waitFor({ timeout: 60_000 });
      const zip = await context.request.get(`${origin}${await download.getAttribute('href')}`);
      expect(zip.status()).toBe(200);
      expect(zip.headers()['content-type']).toContain('application/zip');

      // Disconnect (confirmed in the dialog): Connect is offered again.
      await connections.getByRole('button', { name: 'Disconnect' }).click();
      await connections.getByRole('button', { name: 'Connect' }).waitFor();

      // The browser talked to this server and to the fake provider's consent page, both on 127.0.0.1.
      expect(requested.filter(leavesLoopback)).toEqual([]);
      await context.close();
    },
    180_000,
  );
});
