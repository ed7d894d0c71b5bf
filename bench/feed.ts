/**
 * `npm run bench:feed` — the change feed's cost on ingest, and webhook delivery throughput (issue 27).
 *
 * 1. Feed overhead: BENCH_ACTIVITIES (5000) HealthKit workouts in batches of 500 through
 *    POST /api/v1/athletes/{id}/sync/healthkit/batches (bench:ingest's first-ingest path), on a fresh
 *    database each pass, once with the change feed's triggers disabled (ALTER TABLE … DISABLE
 *    TRIGGER, the triggers of src/database/sql/changes.sql) and once with them on. Passes alternate,
 *    BENCH_FEED_RUNS (3) pairs, 0 skips this part; medians. Ratio on / off (goal ≥ 0.9).
 * 2. Webhook delivery throughput: one endpoint (activity.created) pointing at a local receiver that
 *    answers 200; BENCH_WEBHOOK_ACTIVITIES (2000) workouts ingested, then the time until the receiver
 *    has them all (deliveries/s, from the end of the ingest). The receiver is plain http on 127.0.0.1,
 *    so this server runs with NODE_ENV=development (production wants https) and private targets allowed.
 *
 * The project runs as `node dist/src/main.js` (NODE_ENV=production) on PostgreSQL.
 * Env: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench_feed).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { healthKitWorkout } from './sync-bodies.js';
import { resetDatabase, signUp, startProject } from './project-server.js';

const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bench_feed';
const total = Number(process.env.BENCH_ACTIVITIES ?? 5000);
const runs = Number(process.env.BENCH_FEED_RUNS ?? 3);
const webhookTotal = Number(process.env.BENCH_WEBHOOK_ACTIVITIES ?? 2000);
const BATCH = 500;
const FEED_TRIGGERS: [table: string, trigger: string][] = [
  ...(['insert', 'update', 'delete'] as const).flatMap((op): [string, string][] => [
    ['activities', `activities_change_feed_${op}`],
    ['activity_streams', `activity_streams_change_feed_${op}`],
  ]),
  ['athletes', 'athletes_change_feed'],
  ['sync_states', 'sync_states_change_feed'],
  ['provider_connections', 'provider_connections_change_feed'],
];

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function bodies(offset: number, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i += BATCH) {
    out.push(JSON.stringify({ activities: Array.from({ length: Math.min(BATCH, count - i) }, (_, k) => healthKitWorkout(offset + i + k)), cursor: `anchor-${offset + i}` }));
  }
  return out;
}

async function sendAll(base: string, athleteId: string, token: string, list: string[]): Promise<number> {
  const started = performance.now();
  for (const body of list) {
    const response = await fetch(`${base}/api/v1/athletes/${athleteId}/sync/healthkit/batches`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    });
    if (!response.ok) throw new Error(`batch: ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
  }
  return performance.now() - started;
}

/** One pass on a fresh database: ingest rate with the feed's triggers on or off. */
async function ingestPass(feed: boolean, input: string[]): Promise<number> {
  const sql = await resetDatabase(url);
  const server = await startProject({ databaseUrl: url, extraEnv: { WEBHOOK_DISPATCH: 'false' } });
  try {
    // The server applied src/database/sql at start (triggers enabled); switch them off after that.
    if (!feed) for (const [table, trigger] of FEED_TRIGGERS) await sql.unsafe(`alter table ${table} disable trigger ${trigger}`);
    const warm = await signUp(server.base, 'bench-warm-up@example.test');
    await sendAll(server.base, warm.athleteId, warm.token, bodies(0, 1000));
    const athlete = await signUp(server.base, 'bench-feed@example.test');
    const ms = await sendAll(server.base, athlete.athleteId, athlete.token, input);
    const [{ count }] = (await sql`select count(*)::int as count from changes where entity = 'activity'`) as unknown as [{ count: number }];
    if (feed !== count > 0) throw new Error(`feed ${feed ? 'on' : 'off'} but ${count} activity changes written`);
    return (total / ms) * 1000;
  } finally {
    await server.stop();
    await sql.end();
  }
}

async function webhookThroughput(): Promise<{ deliveries: number; seconds: number; perS: number }> {
  let received = 0;
  let resolveAll: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (resolveAll = resolve));
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.end('ok');
      if (++received === webhookTotal) resolveAll();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const sql = await resetDatabase(url);
  await sql.end();
  const server = await startProject({ databaseUrl: url, extraEnv: { NODE_ENV: 'development', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_POLL_MS: '50' } });
  try {
    const athlete = await signUp(server.base, 'bench-webhooks@example.test');
    const created = await fetch(`${server.base}/api/v1/webhook-endpoints`, {
      method: 'POST',
      headers: { authorization: `Bearer ${athlete.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: hook, events: ['activity.created'] }),
    });
    if (created.status !== 201) throw new Error(`endpoint: ${created.status} ${await created.text()}`);
    await sendAll(server.base, athlete.athleteId, athlete.token, bodies(0, webhookTotal));
    const started = performance.now();
    await all;
    const seconds = (performance.now() - started) / 1000;
    return { deliveries: webhookTotal, seconds: +seconds.toFixed(2), perS: +(webhookTotal / seconds).toFixed(1) };
  } finally {
    await server.stop();
    receiver.close();
  }
}

async function main() {
  const input = bodies(0, total);
  const off: number[] = [];
  const on: number[] = [];
  for (let run = 0; run < runs; run++) {
    off.push(await ingestPass(false, input));
    on.push(await ingestPass(true, input));
  }
  if (runs > 0) {
    const feed = { activities: total, runs, offPerS: +median(off).toFixed(1), onPerS: +median(on).toFixed(1), ratio: +(median(on) / median(off)).toFixed(2), off, on };
    console.log(JSON.stringify({ feed }, null, 2));
    console.log(`feed on/off: HealthKit first ingest ${feed.onPerS}/s vs ${feed.offPerS}/s (ratio ${feed.ratio}; goal ≥ 0.9)`);
  }
  const webhooks = await webhookThroughput();
  console.log(JSON.stringify({ webhooks }, null, 2));
  console.log(`webhooks: ${webhooks.deliveries} deliveries in ${webhooks.seconds} s after the ingest (${webhooks.perS}/s) to a local receiver`);
}

await main();
