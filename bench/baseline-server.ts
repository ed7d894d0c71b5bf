/**
 * The benchmark's baseline: a bare Fastify server answering GET /api/v1/activities and
 * GET /api/v1/activities/:id with hand-written SQL through `postgres`, the same bearer-session check
 * and the same JSON as the project. No Nest, no oRPC, no zod, no Drizzle.
 */
import Fastify from 'fastify';
import postgres from 'postgres';
import { lttbWithExtremes, simplifyTrack } from '../src/modules/streams/downsample.js';

const sql = postgres(process.env.DATABASE_URL!, { max: 10 });
const app = Fastify({ logger: false });

const SUMMARY = sql`a.id, a.athlete_id, a.parent_id, a.activity_type, a.source_activity_type, a.source, a.external_id, a.name, a.notes,
  a.start_time, a.end_time, a.time_zone, a.duration_s, a.moving_time_s, a.distance_m, a.active_energy_kcal, a.avg_heart_rate_bpm,
  a.max_heart_rate_bpm, a.elevation_gain_m, a.elevation_loss_m, a.avg_speed_m_s, a.max_speed_m_s, a.is_indoor, a.device_name,
  a.revision, a.duplicate_of, a.created_at, a.updated_at`;

type Row = Record<string, unknown>;
const summary = (r: Row) => ({
  id: r.id,
  athleteId: r.athlete_id,
  parentId: r.parent_id,
  activityType: r.activity_type,
  sourceActivityType: r.source_activity_type,
  source: r.source,
  externalId: r.external_id,
  name: r.name,
  notes: r.notes,
  startTime: (r.start_time as Date).toISOString(),
  endTime: (r.end_time as Date).toISOString(),
  timeZone: r.time_zone,
  durationS: r.duration_s,
  movingTimeS: r.moving_time_s,
  distanceM: r.distance_m,
  activeEnergyKcal: r.active_energy_kcal,
  avgHeartRateBpm: r.avg_heart_rate_bpm,
  maxHeartRateBpm: r.max_heart_rate_bpm,
  elevationGainM: r.elevation_gain_m,
  elevationLossM: r.elevation_loss_m,
  avgSpeedMS: r.avg_speed_m_s,
  maxSpeedMS: r.max_speed_m_s,
  isIndoor: r.is_indoor,
  deviceName: r.device_name,
  revision: r.revision,
  duplicateOf: r.duplicate_of,
  createdAt: (r.created_at as Date).toISOString(),
  updatedAt: (r.updated_at as Date).toISOString(),
});

async function userId(authorization: string | undefined): Promise<string | undefined> {
  const token = authorization?.startsWith('Bearer ') ? authorization.slice(7).split('.')[0] : undefined;
  if (!token) return undefined;
  const [row] = await sql<{ user_id: string }[]>`
    select s.user_id from session s join "user" u on u.id = s.user_id where s.token = ${token} and s.expires_at > now()`;
  return row?.user_id;
}

const decodeCursor = (cursor: string) => {
  const [micros, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  return micros && id && /^-?\d{1,17}$/.test(micros) ? { micros, id } : undefined;
};

/**
 * The timeline the best way we know: one query served in index order by (athlete_id | user_id,
 * start_time desc, id desc), the keyset as a row comparison at microsecond precision, ownership in
 * the same query, totals only when asked (index-only scan).
 */
app.get<{ Querystring: { athleteId?: string; limit?: string; cursor?: string; includeTotals?: string } }>('/api/v1/activities', async (request, reply) => {
  const owner = await userId(request.headers.authorization);
  if (!owner) return reply.status(401).send({ code: 'UNAUTHORIZED', message: 'Sign in first' });
  const limit = Math.min(Number(request.query.limit ?? 50), 200);
  const { athleteId } = request.query;
  const after = request.query.cursor ? decodeCursor(request.query.cursor) : undefined;
  if (request.query.cursor && !after) return reply.status(400).send({ code: 'BAD_REQUEST', message: 'Bad cursor' });
  const scope = athleteId
    ? sql`a.athlete_id = ${athleteId} and exists (select 1 from athletes t where t.id = ${athleteId} and t.user_id = ${owner})`
    : sql`a.user_id = ${owner}`;
  const [rows, totals] = await Promise.all([
    sql<Row[]>`
      select ${SUMMARY}, ((extract(epoch from a.start_time) * 1000000)::bigint)::text as micros,
             (select count(*)::int from activities c where c.duplicate_of = a.id) as duplicate_count
        from activities a
       where ${scope} and a.duplicate_of is null
         ${after ? sql`and (a.start_time, a.id) < (timestamptz 'epoch' + ${after.micros}::bigint * interval '1 microsecond', ${after.id}::uuid)` : sql``}
       order by a.start_time desc, a.id desc limit ${limit + 1}`,
    request.query.includeTotals === 'true'
      ? sql<{ count: number; distance_m: number; duration_s: number }[]>`
          select count(*)::int as count, coalesce(sum(a.distance_m), 0)::float8 as distance_m, coalesce(sum(a.duration_s), 0)::float8 as duration_s
            from activities a where ${scope} and a.duplicate_of is null`
      : undefined,
  ]);
  if (rows.length === 0 && athleteId) {
    const [mine] = await sql`select 1 from athletes where id = ${athleteId} and user_id = ${owner}`;
    if (!mine) return reply.status(404).send({ code: 'NOT_FOUND', message: 'Athlete not found' });
  }
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const nextCursor = rows.length > limit && last ? Buffer.from(`${last.micros as string}|${last.id as string}`).toString('base64url') : null;
  return {
    items: page.map((row) => ({ ...summary(row), duplicateCount: row.duplicate_count })),
    nextCursor,
    ...(totals ? { totals: { count: totals[0]!.count, distanceM: totals[0]!.distance_m, durationS: totals[0]!.duration_s } } : {}),
  };
});

app.get<{ Params: { id: string } }>('/api/v1/activities/:id', async (request, reply) => {
  const owner = await userId(request.headers.authorization);
  if (!owner) return reply.status(401).send({ code: 'UNAUTHORIZED', message: 'Sign in first' });
  const [row] = await sql<Row[]>`
    select ${SUMMARY}, a.source_data, a.source_archive_key, a.source_archive_index from activities a join athletes t on t.id = a.athlete_id
     where a.id = ${request.params.id} and t.user_id = ${owner}`;
  if (!row) return reply.status(404).send({ code: 'NOT_FOUND', message: 'Activity not found' });
  const [statistics, events, children, streams, duplicates] = await Promise.all([
    sql<Row[]>`select key, value, unit from activity_statistics where activity_id = ${row.id as string} order by key`,
    sql<Row[]>`select event_type, start_time, end_time, metadata from activity_events where activity_id = ${row.id as string} order by start_time, id`,
    row.parent_id ? [] : sql<Row[]>`select ${SUMMARY} from activities a where a.parent_id = ${row.id as string} order by a.start_time, a.id`,
    sql<Row[]>`select stream_type, sample_count, start_time, end_time, min_value, max_value, avg_value, byte_size, checksum_sha256, format,
                      schema_version, updated_at from activity_streams where activity_id = ${row.id as string} order by stream_type`,
    sql<Row[]>`select id, source, external_id, source_activity_type, start_time, duration_s, distance_m from activities d
                where d.id <> ${row.id as string} and (d.duplicate_of = ${(row.duplicate_of ?? row.id) as string} or d.id = ${row.duplicate_of as string | null})
                order by d.start_time, d.id`,
  ]);
  return {
    ...summary(row),
    sourceData: row.source_data ?? null,
    sourceArchiveKey: row.source_archive_key ?? null,
    sourceArchiveIndex: row.source_archive_index ?? null,
    statistics: statistics.map((s) => ({ key: s.key, value: s.value, unit: s.unit })),
    events: events.map((e) => ({
      eventType: e.event_type,
      startTime: (e.start_time as Date).toISOString(),
      endTime: e.end_time ? (e.end_time as Date).toISOString() : null,
      metadata: e.metadata,
    })),
    streams: streams.map((s) => ({
      streamType: s.stream_type,
      sampleCount: s.sample_count,
      startTime: (s.start_time as Date).toISOString(),
      endTime: (s.end_time as Date).toISOString(),
      minValue: s.min_value,
      maxValue: s.max_value,
      avgValue: s.avg_value,
      byteSize: Number(s.byte_size),
      checksumSha256: s.checksum_sha256,
      format: s.format,
      schemaVersion: s.schema_version,
      updatedAt: (s.updated_at as Date).toISOString(),
    })),
    children: children.map(summary),
    duplicates: duplicates.map((d) => ({
      id: d.id,
      source: d.source,
      externalId: d.external_id,
      sourceActivityType: d.source_activity_type,
      startTime: (d.start_time as Date).toISOString(),
      durationS: d.duration_s,
      distanceM: d.distance_m,
    })),
    fieldSources: {},
    memberStreams: [],
  };
});

/** bench:streams: the old row-per-sample layout served over HTTP in the API's column shape. */
const STREAM_TABLES = new Set(['heart_rate', 'altitude', 'speed', 'power', 'cadence', 'position']);
app.get<{ Params: { id: string; type: string }; Querystring: { maxPoints?: string } }>(
  '/api/v1/activities/:id/streams/:type',
  async (request, reply) => {
    if (!(await userId(request.headers.authorization))) return reply.status(401).send({ code: 'UNAUTHORIZED', message: 'Sign in first' });
    const { id, type } = request.params;
    if (!STREAM_TABLES.has(type)) return reply.status(404).send({ code: 'NOT_FOUND', message: 'Stream not found' });
    const maxPoints = request.query.maxPoints ? Number(request.query.maxPoints) : undefined;
    if (type === 'position') {
      const rows = await sql<{ t: Date; latitude: number; longitude: number }[]>`
        select timestamp as t, latitude, longitude from baseline_position where activity_id = ${id} order by timestamp`;
      const latitude = Float64Array.from(rows, (row) => row.latitude);
      const longitude = Float64Array.from(rows, (row) => row.longitude);
      const keep = maxPoints && rows.length > maxPoints ? Array.from(simplifyTrack(latitude, longitude, maxPoints).indices) : rows.map((_, i) => i);
      return {
        streamType: type,
        sampleCount: rows.length,
        returnedCount: keep.length,
        downsampled: keep.length < rows.length,
        timestamps: keep.map((i) => rows[i]!.t.getTime()),
        latitude: keep.map((i) => latitude[i]),
        longitude: keep.map((i) => longitude[i]),
      };
    }
    const rows = await sql<{ t: Date; value: number }[]>`
      select timestamp as t, value from ${sql(`baseline_${type}`)} where activity_id = ${id} order by timestamp`;
    const timestamps = Float64Array.from(rows, (row) => row.t.getTime());
    const values = Float64Array.from(rows, (row) => row.value);
    const keep = maxPoints && rows.length > maxPoints ? Array.from(lttbWithExtremes(timestamps, values, maxPoints)) : rows.map((_, i) => i);
    return {
      streamType: type,
      sampleCount: rows.length,
      returnedCount: keep.length,
      downsampled: keep.length < rows.length,
      timestamps: keep.map((i) => timestamps[i]),
      values: keep.map((i) => values[i]),
    };
  },
);

await app.listen({ port: Number(process.env.PORT ?? 3102), host: '127.0.0.1' });
console.log(`baseline listening on ${process.env.PORT ?? 3102}`);
