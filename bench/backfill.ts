/**
 * `npm run bench:backfill`: a Strava backfill against the fake Strava (test/fakes/strava), through
 * the built server as production runs it (bench/project-server.ts: `node dist/src/main.js`), over
 * real HTTP.
 *
 * 1. Requests: BENCH_ACTIVITIES (1,000) activities with streams, limits out of the way: the requests
 *    made against the fewest that can do it (floor(n / 200) + 1 list pages — the last one short or
 *    empty — and one detail and one streams request per activity; goal ≤ 1.01×), the time from the
 *    OAuth callback to the first page of the timeline, and to the end.
 * 2. Rate limit: BENCH_LIMITED_ACTIVITIES (200) activities under Strava's default limits (100 reads
 *    per 15 minutes, 1,000 a day) with time simulated at 1/100 (a 15-minute window lasts 9 s, in the
 *    fake and in the planner: PROVIDER_RATE_WINDOW_MS): the simulated time to finish against the
 *    fewest windows the requests need at 100 per window, the 429s met (goal 0), the most requests in
 *    one window.
 *
 * Env: BENCH_DATABASE_URL (PostgreSQL; reset first) or, by default, the embedded PGlite in a
 * temporary DATA_DIR; BENCH_LATENCY_MS (the fake's delay per answer, default 0).
 */
import { randomBytes } from 'node:crypto';
import { startFakeStrava, type FakeStrava, type StravaLimits } from '../test/fakes/strava/index.js';
import { resetDatabase, signUp, startProject } from './project-server.js';

const SCALE = 100;
const WINDOW_MS = 900_000 / SCALE;
const DAY_MS = 86_400_000 / SCALE;
const PAGE = 200;

const databaseUrl = process.env.BENCH_DATABASE_URL || undefined;
const latencyMs = Number(process.env.BENCH_LATENCY_MS ?? 0);

interface Run {
  activities: number;
  requests: number;
  minimum: number;
  firstPageMs: number;
  doneMs: number;
  refused: number;
  perWindow: number[];
}

async function backfill(activities: number, limits: StravaLimits, extraEnv: Record<string, string>): Promise<Run> {
  if (databaseUrl) await (await resetDatabase(databaseUrl)).end();
  const strava: FakeStrava = await startFakeStrava({ activities, limits, latencyMs, clientId: `bench-${Date.now()}` });
  const server = await startProject({
    databaseUrl,
    extraEnv: {
      PUBLIC_URL: 'http://127.0.0.1:1',
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      STRAVA_CLIENT_ID: strava.clientId,
      STRAVA_CLIENT_SECRET: strava.clientSecret,
      STRAVA_API_URL: strava.apiUrl,
      STRAVA_OAUTH_URL: strava.oauthUrl,
      ...extraEnv,
    },
  });
  try {
    const user = await signUp(server.base, `bench-${Date.now()}@example.test`);
    const auth = { authorization: `Bearer ${user.token}` };
    const started = (await (await fetch(`${server.base}/api/v1/athletes/${user.athleteId}/connections/strava`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' })).json()) as {
      authorizeUrl: string;
    };
    const approved = await fetch(started.authorizeUrl, { redirect: 'manual' });
    const back = new URL(approved.headers.get('location')!);
    const t0 = performance.now();
    const callback = await fetch(`${server.base}${back.pathname}${back.search}`);
    if (!callback.ok) throw new Error(`callback: ${callback.status} ${await callback.text()}`);

    let firstPageMs = -1;
    let doneMs = -1;
    for (;;) {
      if (firstPageMs < 0) {
        const page = (await (await fetch(`${server.base}/api/v1/activities?athleteId=${user.athleteId}&limit=20`, { headers: auth })).json()) as { items: unknown[] };
        if (page.items.length > 0) firstPageMs = performance.now() - t0;
      }
      const listed = (await (await fetch(`${server.base}/api/v1/athletes/${user.athleteId}/connections`, { headers: auth })).json()) as {
        items: { status: string; backfill: { status: string; fetched: number } }[];
      };
      const c = listed.items[0]!;
      if (c.backfill.status === 'done') {
        doneMs = performance.now() - t0;
        break;
      }
      if (c.status === 'revoked' || c.status === 'error') throw new Error(`backfill ended in ${c.status}`);
      await new Promise((resolve) => setTimeout(resolve, firstPageMs < 0 ? 10 : 100));
    }
    const api = strava.state.requests.filter((r) => r.endpoint.includes(' /api/v3/'));
    const windows = new Map<number, number>();
    for (const r of api) windows.set(Math.floor(r.at / (limits.windowMs ?? 900_000)), (windows.get(Math.floor(r.at / (limits.windowMs ?? 900_000))) ?? 0) + 1);
    return {
      activities,
      requests: api.length,
      minimum: Math.floor(activities / PAGE) + 1 + 2 * activities,
      firstPageMs,
      doneMs,
      refused: api.filter((r) => r.status === 429).length,
      perWindow: [...windows.entries()].sort((a, b) => a[0] - b[0]).map(([, n]) => n),
    };
  } finally {
    await server.stop();
    await strava.close();
  }
}

const fast = await backfill(Number(process.env.BENCH_ACTIVITIES ?? 1000), { overall: [1_000_000, 10_000_000], read: [1_000_000, 10_000_000] }, {});
console.log(`Backfill of ${fast.activities} activities with streams (limits out of the way${latencyMs ? `, ${latencyMs} ms per answer` : ''}, ${databaseUrl ? 'PostgreSQL' : 'PGlite'}):`);
console.log(`  requests made ${fast.requests}, fewest possible ${fast.minimum}: ${(fast.requests / fast.minimum).toFixed(4)}× (goal ≤ 1.01×)`);
console.log(`  first timeline page after ${(fast.firstPageMs / 1000).toFixed(2)} s; all details and streams after ${(fast.doneMs / 1000).toFixed(1)} s`);

const limited = await backfill(
  Number(process.env.BENCH_LIMITED_ACTIVITIES ?? 200),
  { overall: [200, 2000], read: [100, 1000], windowMs: WINDOW_MS, dayMs: DAY_MS },
  { PROVIDER_RATE_WINDOW_MS: String(WINDOW_MS), PROVIDER_RATE_DAY_MS: String(DAY_MS) },
);
const simulatedMin = (limited.doneMs * SCALE) / 60_000;
const fewestWindows = Math.ceil(limited.minimum / 100);
console.log(`Backfill of ${limited.activities} activities under 100 reads per 15 minutes, time at 1/${SCALE} (a window is ${WINDOW_MS / 1000} s):`);
console.log(`  requests made ${limited.requests}, fewest possible ${limited.minimum}; 429 answers: ${limited.refused}; requests per window: ${limited.perWindow.join(', ')}`);
console.log(
  `  finished after ${(limited.doneMs / 1000).toFixed(1)} s = ${simulatedMin.toFixed(0)} simulated minutes; the requests need at least ${fewestWindows} windows (${fewestWindows * 15} min) at 100 per window: ${(simulatedMin / (fewestWindows * 15)).toFixed(2)}×`,
);
console.log(`  first timeline page after ${(limited.firstPageMs / 1000).toFixed(2)} s (${((limited.firstPageMs * SCALE) / 1000).toFixed(0)} simulated s)`);
