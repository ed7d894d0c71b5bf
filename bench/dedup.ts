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
 * `node dist/bench/dedup.js --offline` scores the detection's pure function (duplicateComponents)
 * over the mapped copies instead, without a server: seconds, for trying thresholds.
 *
 * Env: BENCH_DATABASE_URL (a PostgreSQL database, reset first; default: the embedded PGlite in a
 * temporary folder), BENCH_SEED (25), BENCH_YEARS (3), BENCH_SHOW (wrong pairs printed in full, 20),
 * BENCH_SERVER_ENV (extra server env as JSON, e.g. '{"DUPLICATE_DETECTION":"false"}').
 */
import { duplicateCorpus, type CorpusItem, type DuplicateCorpus, type Workout } from '../libs/testing/duplicate-corpus.js';
import { scorePairs, type ScoredMember } from '../libs/testing/duplicate-scores.js';
import { duplicateComponents, type DuplicateCandidate } from '../src/modules/activities/duplicates/duplicate-detection.js';
import { MAPPERS } from '../src/modules/sync/mappers/index.js';
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

type Member = ScoredMember & { listed: Listed; item: CorpusItem };

/** Through the server: ingest, then read every member back. */
async function throughServer(corpus: DuplicateCorpus, databaseUrl: string | undefined, extraEnv: Record<string, string>) {
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
    const members: Member[] = [];
    const unknown: Listed[] = [];
    for (const activity of listed) {
      const item = itemByKey.get(`${activity.source}/${activity.externalId}`);
      if (!item) unknown.push(activity);
      else members.push({ activityId: activity.id, workoutId: item.workoutId, groupKey: activity.duplicateOf ?? activity.id, listed: activity, item });
    }
    if (members.length !== corpus.items.length || unknown.length > 0) {
      throw new Error(`listed ${members.length} of ${corpus.items.length} corpus items, plus ${unknown.length} unknown activities`);
    }
    const note = grouping ? '' : 'The server does not know includeDuplicates: every activity is scored as its own group.';
    return {
      members,
      note,
      ingest: { requests: sent.requests, ingestPerS: Math.round((members.length / sent.ms) * 1000), timelineCount: timeline.totals.count },
    };
  } finally {
    await server.stop();
  }
}

/**
 * `--offline`: the detection's own pure function (duplicateComponents) over the copies as the
 * project's mappers map them, without server or database: seconds instead of minutes, for trying a
 * threshold (change the constant in duplicate-detection.ts, build, run). Leaves out what only the
 * server does (ingest order, overrides, the advisory lock).
 */
function offline(corpus: DuplicateCorpus) {
  const ids = new Map(corpus.items.map((item, i) => [item, `i${i}`]));
  const idByKey = new Map(corpus.items.map((item, i) => [`${item.source}/${item.externalId}`, `i${i}`]));
  const candidates: (DuplicateCandidate & { listed: Listed; item: CorpusItem })[] = corpus.items.map((item) => {
    const id = ids.get(item)!;
    let fields: Pick<DuplicateCandidate, 'activityType' | 'startTime' | 'endTime' | 'distanceM' | 'avgHeartRateBpm'> & { parentExternalId: string | null; durationS: number | null };
    if (item.delivery.kind === 'create') {
      const body = item.delivery.body;
      fields = { ...body, startTime: new Date(body.startTime), endTime: new Date(body.endTime), parentExternalId: null };
    } else {
      const mapper = MAPPERS[item.delivery.source];
      fields = mapper.map(mapper.schema.parse(item.delivery.payload) as never);
    }
    const parentId = fields.parentExternalId ? idByKey.get(`${item.source}/${fields.parentExternalId}`)! : null;
    const listed: Listed = {
      id,
      source: item.source,
      externalId: item.externalId,
      activityType: fields.activityType,
      startTime: fields.startTime.toISOString(),
      endTime: fields.endTime.toISOString(),
      durationS: fields.durationS,
      distanceM: fields.distanceM,
      avgHeartRateBpm: fields.avgHeartRateBpm,
      parentId,
    };
    return { id, source: item.source, externalId: item.externalId, parentId, ...fields, listed, item };
  });
  const groupOf = new Map<string, string>();
  for (const component of duplicateComponents(candidates, { separate: new Set(), same: [] })) for (const id of component) groupOf.set(id, component[0]!);
  const members: Member[] = candidates.map((c) => ({ activityId: c.id, workoutId: c.item.workoutId, groupKey: groupOf.get(c.id) ?? c.id, listed: c.listed, item: c.item }));
  return { members, note: 'Offline: duplicateComponents over the mapped copies, no server.', ingest: undefined };
}

async function main() {
  const seed = Number(process.env.BENCH_SEED ?? 25);
  const years = Number(process.env.BENCH_YEARS ?? 3);
  const show = Number(process.env.BENCH_SHOW ?? 20);
  const extraEnv = process.env.BENCH_SERVER_ENV ? (JSON.parse(process.env.BENCH_SERVER_ENV) as Record<string, string>) : {};

  const corpus = duplicateCorpus({ seed, years });
  const workoutById = new Map(corpus.workouts.map((w) => [w.id, w]));
  const { members, note, ingest: sent } = process.argv.includes('--offline') ? offline(corpus) : await throughServer(corpus, process.env.BENCH_DATABASE_URL, extraEnv);

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
    workouts: corpus.workouts.length,
    activities: members.length,
    ...sent,
    groups,
    truePairs: scores.truePairs,
    predictedPairs: scores.predictedPairs,
    correctPairs: scores.correctPairs,
    precision: +scores.precision.toFixed(5),
    recall: +scores.recall.toFixed(5),
    falsePositivesByKind: tally(scores.falsePositives),
    falseNegativesByKind: tally(scores.falseNegatives),
  };
  console.log(JSON.stringify(result, null, 2));
  if (note) console.log(`\n${note}`);
  console.log(
    `\n${corpus.workouts.length} workouts as ${members.length} activities` +
      (sent ? `, sent in ${sent.requests} requests (${sent.ingestPerS} activities/s); the timeline counts ${sent.timelineCount}` : '') +
      `; ${groups} groups.`,
  );
  console.log(
    `precision ${pct(scores.precision)} (goal ≥ ${pct(GOAL.precision)}: ${scores.precision >= GOAL.precision ? 'met' : 'NOT met'}), ` +
      `recall ${pct(scores.recall)} (goal ≥ ${pct(GOAL.recall)}: ${scores.recall >= GOAL.recall ? 'met' : 'NOT met'}) over ${scores.truePairs} true pairs`,
  );
  for (const [title, list] of [['grouped but different workouts', scores.falsePositives], ['same workout, not grouped', scores.falseNegatives]] as const) {
    if (list.length === 0) continue;
    console.log(`\n${list.length} pairs ${title}; the first ${Math.min(show, list.length)}:`);
    for (const [a, b] of list.slice(0, show)) console.log(`  ${describe(a)}\n    ~ ${describe(b)}`);
  }
}

await main();
