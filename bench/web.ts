/**
 * `npm run bench:web` — the web app (/app, issue 29): bundle size gzipped and first paint of the
 * timeline in Chromium with 10,000 activities.
 *
 * 1. Bundle: every file the page loads (dist/web/index.html and dist/web/assets/*), gzipped at level 9
 *    (goal ≤ 250 KiB).
 * 2. First paint of the timeline: one user with BENCH_ACTIVITIES (10,000) activities over ten years
 *    (bench/api-seed.ts's generator), the project as production runs it (`node dist/src/main.js`) on
 *    PostgreSQL, Debian's Chromium (headless, /usr/bin/chromium or CHROMIUM) signed in by its cookie. Each
 *    run opens /app in a fresh page and takes performance.now() at the first animation frame in which
 *    the first timeline row is in the document (navigation start = 0): the session check, the athlete
 *    and catalog reads, the first page with totals, the render. The first run has a cold HTTP
 *    cache; BENCH_WEB_RUNS (7) more runs are warm (the hashed assets are cached as immutable).
 *    Also the browser's own first-contentful-paint. Goal ≤ 1 s.
 *
 * Env: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench_web; emptied first).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { insertActivities } from './api-seed.js';
import { resetDatabase, startProject } from './project-server.js';

/** The page's document, for the function Playwright runs in the browser (this project's lib has no DOM). */
declare const document: { querySelector(selector: string): unknown };

const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bench_web';
const total = Number(process.env.BENCH_ACTIVITIES ?? 10_000);
const runs = Number(process.env.BENCH_WEB_RUNS ?? 7);
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const WEB = 'dist/web';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

function bundle() {
  const files = [join(WEB, 'index.html'), ...readdirSync(join(WEB, 'assets')).map((name) => join(WEB, 'assets', name))];
  let raw = 0;
  let gzipped = 0;
  for (const file of files) {
    const bytes = readFileSync(file);
    raw += statSync(file).size;
    const gz = gzipSync(bytes, { level: 9 }).length;
    gzipped += gz;
    console.log(`  ${file.padEnd(40)} ${kib(bytes.length).padStart(10)} ${kib(gz).padStart(10)} gz`);
  }
  return { raw, gzipped };
}

async function main() {
  console.log('Bundle (dist/web):');
  const size = bundle();
  console.log(`  total ${kib(size.raw)}, gzipped ${kib(size.gzipped)} (goal ≤ 250 KiB)`);

  const sql = await resetDatabase(url);
  const server = await startProject({ databaseUrl: url });
  const browser = await chromium.launch({ executablePath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  try {
    const email = `bench-web-${Date.now()}@example.test`;
    const password = 'bench-password-123';
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const signedUp = await context.request.post(`${server.base}/api/auth/sign-up/email`, { data: { name: 'Bench', email, password } });
    if (!signedUp.ok()) throw new Error(`sign-up: ${signedUp.status()} ${await signedUp.text()}`);
    const userId = ((await signedUp.json()) as { user: { id: string } }).user.id;
    const [athlete] = await sql<{ id: string }[]>`select id from athletes where user_id = ${userId}`;
    const started = performance.now();
    await insertActivities(sql, athlete!.id, userId, total, 7);
    await sql`analyze activities`;
    console.log(`\nSeeded ${total.toLocaleString('en-US')} activities in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const times: number[] = [];
    const paints: number[] = [];
    for (let run = 0; run <= runs; run++) {
      const page = await context.newPage();
      await page.goto(`${server.base}/app/`, { waitUntil: 'commit' });
      const painted = await page.waitForFunction(() => (document.querySelector('li.row') ? performance.now() : 0), undefined, { polling: 'raf', timeout: 30_000 });
      const ms = (await painted.jsonValue()) as number;
      const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN);
      // Where the time went: each API call's start and end (resource timing), navigation start = 0.
      const calls = await page.evaluate(() =>
        (performance.getEntriesByType('resource') as unknown as { name: string; startTime: number; responseEnd: number }[])
          .filter((entry) => entry.name.includes('/api/'))
          .map((entry) => `${new URL(entry.name).pathname.replace(/^\/api\/(rpc\/)?/, '')} ${entry.startTime.toFixed(0)}–${entry.responseEnd.toFixed(0)}`),
      );
      const shown = await page.getByTestId('totals').innerText();
      if (!shown.includes(total.toLocaleString('en-US')) && !shown.includes(String(total))) throw new Error(`the timeline shows "${shown}", not ${total} activities`);
      console.log(`  run ${run} (${run === 0 ? 'cold cache' : 'warm'}): first timeline row at ${ms.toFixed(0)} ms, first contentful paint ${fcp.toFixed(0)} ms; ${calls.join(', ')}`);
      if (run > 0) {
        times.push(ms);
        paints.push(fcp);
      }
      await page.close();
    }
    console.log(`\nFirst paint of the timeline (${total.toLocaleString('en-US')} activities): median ${median(times).toFixed(0)} ms warm, max ${Math.max(...times).toFixed(0)} ms (goal ≤ 1000 ms); first contentful paint median ${median(paints).toFixed(0)} ms`);
  } finally {
    await browser.close();
    await server.stop();
    await sql.end();
  }
}

await main();
