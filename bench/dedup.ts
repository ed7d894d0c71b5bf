/**
 * `npm run bench:dedup` — duplicate detection against the ground truth (issue 25).
 *
 * Starts the built server, sends the corpus of `libs/testing/duplicate-corpus.ts` (one athlete,
 * three years of Garmin, Strava, HealthKit, Health Connect, file and manual copies, with hard
 * negatives) through the API as it arrives — a week of arrivals at a time: one sync batch per
 * source (POST /api/v1/athletes/{id}/sync/{source}/batches), file and manual copies one
 * POST /api/v1/activities each — then reads every member with
 * GET /api/v1/activities?includeDuplicates=true (all pages) and scores "same group" (same
 * `duplicateOf ?? id`) against "same workout" pair by pair: precision and recall, with the goal,
 * the wrong pairs by kind and the first of them in full.
 *
 * A server without duplicate groups (no `includeDuplicates`) is scored as it is: every activity
 * alone, recall 0.
 *
 * Env: BENCH_DATABASE_URL (a PostgreSQL database, reset first; default: the embedded PGlite in a
 * temporary folder), BENCH_SEED (25), BENCH_YEARS (3), BENCH_SHOW (wrong pairs printed in full, 20),
 * BENCH_SERVER_ENV (extra server env as JSON, e.g. '{"DUPLICATE_DETECTION":"false"}').
 */
import { duplicateCorpus, type CorpusItem, type DuplicateCorpus, type Workout } from '../libs/testing/duplicate-corpus.js';
import { scorePairs, type ScoredMember } from '../libs/testing/duplicate-scores.js';
import { resetDatabase, signUp, startProject } from './project-server.js';

const WEEK = 7 * 86_400_000;
const MAX_BATCH = 500;
const GOAL = { precision: 0.995, recall: 0.99 };

interface Listed {
  id: string;
  source: string;
  externalId: string | null;
  activityType: string;
  startTime: string;
  endTime: string;
  durationS: number | null;
  distanceM: number | null;
  avgHeartRateBpm: number | null;
  parentId: string | null;
  duplicateOf?: string | null;
  duplicateCount?: number;
}

class Client {
  constructor(
    readonly base: string,
    readonly token: string,
  ) {}

  async request(method: string, path: string, body?: unknown) {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  async ok(method: string, path: string, body?: unknown) {
    const answer = await this.request(method, path, body);
    if (answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 500)}`);
    return answer.body;
  }
}

/**
 * The requests the corpus arrives as: a week of arrivals at a time, in the order the sources first
 * deliver in that week; one batch per sync source (≤ 500 items), one create per file or manual copy.
 */
function arrivalRequests(corpus: DuplicateCorpus) {
  const t0 = corpus.items[0]?.arrivesAtMs ?? 0;
  const weeks = new Map<number, CorpusItem[]>();
  for (const item of corpus.items) {
    const week = Math.floor((item.arrivesAtMs - t0) / WEEK);
    const list = weeks.get(week);
    if (list) list.push(item);
    else weeks.set(week, [item]);
  }
  const requests: ({ kind: 'batch'; source: string; items: CorpusItem[] } | { kind: 'create'; item: CorpusItem })[] = [];
  for (const items of [...weeks.entries()].sort(([a], [b]) => a - b).map(([, list]) => list)) {
    const bySource = new Map<string, CorpusItem[]>();
    for (const item of items) {
      if (item.delivery.kind === 'create') {
        requests.push({ kind: 'create', item });
        continue;
      }
      const list = bySource.get(item.delivery.source);
      if (list) list.push(item);
      else bySource.set(item.delivery.source, [item]);
    }
    for (const [source, list] of bySource) {
      for (let i = 0; i < list.length; i += MAX_BATCH) requests.push({ kind: 'batch', source, items: list.slice(i, i + MAX_BATCH) });
    }
  }
  return requests;
}

async function ingest(client: Client, athleteId: string, corpus: DuplicateCorpus) {
  const requests = arrivalRequests(corpus);
  const started = performance.now();
  for (const request of requests) {
    if (request.kind === 'create') {
      if (request.item.delivery.kind !== 'create') throw new Error('unreachable');
      await client.ok('POST', '/api/v1/activities', { athleteId, ...request.item.delivery.body });
      continue;
    }
    const body = { activities: request.items.map((item) => (item.delivery.kind === 'sync' ? item.delivery.payload : undefined)) };
    const result = (await client.ok('POST', `/api/v1/athletes/${athleteId}/sync/${request.source}/batches`, body)) as { created: number; ignored: number };
    if (result.created !== request.items.length) throw new Error(`${request.source} batch: ${result.created} of ${request.items.length} created (${result.ignored} ignored)`);
  }
  return { requests: requests.length, ms: performance.now() - started };
}

/** Every stored activity of the athlete, members of groups included when the server knows groups. */
async function listAll(client: Client, athleteId: string) {
  const items: Listed[] = [];
  let grouping = true;
  let cursor: string | undefined;
  for (;;) {
    const query = new URLSearchParams({ athleteId, limit: '200', ...(grouping ? { includeDuplicates: 'true' } : {}), ...(cursor ? { cursor } : {}) });
    const answer = await client.request('GET', `/api/v1/activities?${query}`);
    if (answer.status === 400 && grouping && items.length === 0 && JSON.stringify(answer.body).includes('includeDuplicates')) {
      grouping = false;
      continue;
    }
    if (answer.status !== 200) throw new Error(`list: ${answer.status} ${JSON.stringify(answer.body).slice(0, 500)}`);
    items.push(...(answer.body.items as Listed[]));
    cursor = (answer.body.nextCursor as string | null) ?? undefined;
    if (!cursor) break;
  }
  return { items, grouping };
}

const pct = (value: number) => `${(value * 100).toFixed(2)} %`;
const minutes = (s: number | null) => (s === null ? '?' : `${Math.round(s / 60)} min`);

async function main() {
  const seed = Number(process.env.BENCH_SEED ?? 25);
  const years = Number(process.env.BENCH_YEARS ?? 3);
  const show = Number(process.env.BENCH_SHOW ?? 20);
  const databaseUrl = process.env.BENCH_DATABASE_URL;
  const extraEnv = process.env.BENCH_SERVER_ENV ? (JSON.parse(process.env.BENCH_SERVER_ENV) as Record<string, string>) : {};

  const corpus = duplicateCorpus({ seed, years });
  const workoutById = new Map(corpus.workouts.map((w) => [w.id, w]));
  const itemByKey = new Map(corpus.items.map((item) => [`${item.source}/${item.externalId}`, item]));

  const sql = databaseUrl ? await resetDatabase(databaseUrl) : undefined;
  await sql?.end();
  const server = await startProject({ databaseUrl, extraEnv });
  try {
    const user = await signUp(server.base, 'bench-dedup@example.test');
    const client = new Client(server.base, user.token);
    const sent = await ingest(client, user.athleteId, corpus);
    const { items: listed, grouping } = await listAll(client, user.athleteId);
    const timeline = (await client.ok('GET', `/api/v1/activities?${new URLSearchParams({ athleteId: user.athleteId, limit: '1', includeTotals: 'true' })}`)) as {
      totals: { count: number };
    };

    const members: (ScoredMember & { listed: Listed; item: CorpusItem })[] = [];
    const unknown: Listed[] = [];
    for (const activity of listed) {
      const item = itemByKey.get(`${activity.source}/${activity.externalId}`);
      if (!item) unknown.push(activity);
      else members.push({ activityId: activity.id, workoutId: item.workoutId, groupKey: activity.duplicateOf ?? activity.id, listed: activity, item });
    }
    if (members.length !== corpus.items.length || unknown.length > 0) {
      throw new Error(`listed ${members.length} of ${corpus.items.length} corpus items, plus ${unknown.length} unknown activities`);
    }
    const scores = scorePairs(members);
    const byId = new Map(members.map((m) => [m.activityId, m]));
    const describe = (m: ScoredMember) => {
      const { listed: a, item } = byId.get(m.activityId)!;
      const w: Workout = workoutById.get(item.workoutId)!;
      const hr = a.avgHeartRateBpm === null ? '' : ` ${Math.round(a.avgHeartRateBpm)} bpm`;
      const km = a.distanceM === null ? '' : ` ${(a.distanceM / 1000).toFixed(2)} km`;
      return `${w.id}[${w.tag}] ${item.copy} ${a.activityType} ${a.startTime.slice(0, 19)} ${minutes(a.durationS)}${km}${hr}`;
    };
    const kindOf = ([a, b]: [ScoredMember, ScoredMember]) => {
      const name = (m: ScoredMember) => {
        const { item } = byId.get(m.activityId)!;
        const tag = workoutById.get(item.workoutId)!.tag;
        return tag === 'regular' ? item.copy : `${tag}:${item.copy}`;
      };
      return [name(a), name(b)].sort().join(' ~ ');
    };
    /** The 25 commonest kinds of wrong pair (copy kinds, with the workout's tag unless regular). */
    const tally = (list: [ScoredMember, ScoredMember][]) =>
      Object.fromEntries(
        [...list.reduce((acc, pair) => acc.set(kindOf(pair), (acc.get(kindOf(pair)) ?? 0) + 1), new Map<string, number>())]
          .sort((x, y) => y[1] - x[1])
          .slice(0, 25),
      );
    const groups = new Set(members.map((m) => m.groupKey)).size;

    const result = {
      seed,
      years,
      grouping,
      workouts: corpus.workouts.length,
      activities: members.length,
      requests: sent.requests,
      ingestPerS: Math.round((members.length / sent.ms) * 1000),
      groups,
      timelineCount: timeline.totals.count,
      truePairs: scores.truePairs,
      predictedPairs: scores.predictedPairs,
      correctPairs: scores.correctPairs,
      precision: +scores.precision.toFixed(5),
      recall: +scores.recall.toFixed(5),
      falsePositivesByKind: tally(scores.falsePositives),
      falseNegativesByKind: tally(scores.falseNegatives),
    };
    console.log(JSON.stringify(result, null, 2));
    if (!grouping) console.log('\nThe server does not know includeDuplicates: every activity is scored as its own group.');
    console.log(`\n${corpus.workouts.length} workouts sent as ${members.length} activities in ${sent.requests} requests (${result.ingestPerS} activities/s); ${groups} groups; the timeline counts ${timeline.totals.count}.`);
    console.log(`precision ${pct(scores.precision)} (goal ≥ ${pct(GOAL.precision)}: ${scores.precision >= GOAL.precision ? 'met' : 'NOT met'}), ` +
      `recall ${pct(scores.recall)} (goal ≥ ${pct(GOAL.recall)}: ${scores.recall >= GOAL.recall ? 'met' : 'NOT met'}) over ${scores.truePairs} true pairs`);
    for (const [title, list] of [['grouped but different workouts', scores.falsePositives], ['same workout, not grouped', scores.falseNegatives]] as const) {
      if (list.length === 0) continue;
      console.log(`\n${list.length} pairs ${title}; the first ${Math.min(show, list.length)}:`);
      for (const [a, b] of list.slice(0, show)) console.log(`  ${describe(a)}\n    ~ ${describe(b)}`);
    }
  } finally {
    await server.stop();
  }
}

await main();
