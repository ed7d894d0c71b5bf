import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ORPCError } from '@orpc/server';
import { REPROCESS_LIST_CAP, type ActivityCreate, type ActivitySource, type ReprocessJob, type SyncSource } from '@unified-activity/contract';
import type { ActivityRow, OriginalRow, ReprocessChange, ReprocessJobRow, ReprocessResult } from '../../database/schema/index.js';
import { ActivitiesService } from '../activities/activities.service.js';
import type { ActivityPayload, NewEvent, NewStatistic } from '../activities/activity-rows.js';
import { AthletesService } from '../athletes/athletes.service.js';
import { ImportQueue } from '../imports/import-queue.js';
import { ImportsService, type ImportOwner } from '../imports/imports.service.js';
import { MAPPING_TWEAKS, type MappingTweaks } from '../imports/mapping-tweaks.js';
import { originalExtension } from '../imports/original-archive.js';
import type { PreparedStreams } from '../imports/prepare-streams.js';
import { withoutRepeatedAltitude } from '../streams/altitude-once.js';
import { decodeOriginal } from '../streams/objects/original-encoding.js';
import { ObjectNotFoundError, type ObjectStore } from '../streams/storage/object-store.js';
import { TooManySamplesError } from '../streams/stream-samples.js';
import { prepareUpload, type PreparedUpload } from '../streams/stream-tasks.js';
import { isPositionSamples, type StreamType } from '../streams/stream-types.js';
import { OBJECT_STORE, StreamsService } from '../streams/streams.service.js';
import { ArchivedBodyError, archivedItem } from '../sync/archived-item.js';
import type { NormalizedFields } from '../sync/mappers/normalized.js';
import { canonicalJson, mapSyncItem, payloadHash } from '../sync/sync.service.js';
import { ReprocessRepository, type OriginalFilter } from './reprocess.repository.js';

/** The pg-boss queue kind of reprocess jobs (on the imports' pg-boss, ImportQueue.workOn). */
const REPROCESS_JOBS = 'athlete-reprocess';
const PAGE = 100;
/** A running job writes its progress at most this often. */
const PROGRESS_MS = 1000;
/** Marks a stored sync hash whose streams are not written yet (SyncService). */
const PENDING = 'pending:';

/** The promoted fields a reprocess compares and rewrites: their names in the API and in the row are the same. */
const PROMOTED = [
  'activityType',
  'sourceActivityType',
  'name',
  'notes',
  'startTime',
  'endTime',
  'timeZone',
  'durationS',
  'movingTimeS',
  'distanceM',
  'activeEnergyKcal',
  'avgHeartRateBpm',
  'maxHeartRateBpm',
  'elevationGainM',
  'elevationLossM',
  'avgSpeedMS',
  'maxSpeedMS',
  'isIndoor',
  'deviceName',
] as const satisfies readonly (keyof ActivityRow)[];
type Promoted = (typeof PROMOTED)[number];

export interface ReprocessOptions {
  sources?: readonly ActivitySource[];
  since?: Date;
  dryRun: boolean;
}

/** One activity (or leg) as derived again: its fields, and its streams prepared for storage. */
interface Derived {
  promoted: Record<Promoted, unknown>;
  statistics: NewStatistic[];
  events: NewEvent[];
  /** Compared and rewritten for files (the parser's output); a sync item's payload is the item itself, unchanged by definition. */
  sourceData?: unknown;
  streams: [StreamType, PreparedUpload][];
}

interface Target extends Derived {
  children: Derived[];
  /** For a sync item: its payload hash with today's mapper version. */
  sourceDataHash?: string;
}

/** What differs between a stored activity and its derivation: the field names, the payload to write, the streams to rewrite. */
interface Difference {
  fields: string[];
  payload: ActivityPayload & { statistics?: NewStatistic[]; events?: NewEvent[] };
  streams: [StreamType, PreparedUpload][];
}

const notFound = () => new ORPCError('NOT_FOUND', { message: 'Reprocess job not found' });

/** The counts (always complete) and the capped lists of one reprocess. */
class Tally {
  readonly result: ReprocessResult = { unchanged: 0, updated: 0, created: 0, failed: 0, stillRejected: 0, skipped: 0, changes: [], failures: [], truncated: false };

  change(change: ReprocessChange): void {
    if (this.result.changes.length < REPROCESS_LIST_CAP) this.result.changes.push(change);
    else this.result.truncated = true;
  }

  fail(activityId: string | null, sha256: string, reason: string): void {
    this.result.failed++;
    if (this.result.failures.length < REPROCESS_LIST_CAP) this.result.failures.push({ activityId, sha256, reason });
    else this.result.truncated = true;
  }
}

const same = (a: unknown, b: unknown): boolean => {
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  return (a ?? null) === (b ?? null);
};

/** JSON values compared as values (JSONB keeps neither key order nor number spelling). */
const sameJson = (a: unknown, b: unknown) => canonicalJson(JSON.parse(JSON.stringify(a ?? null))) === canonicalJson(b ?? null);

const statisticsKey = (statistics: readonly NewStatistic[]) =>
  JSON.stringify([...statistics].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0)).map((s) => [s.key, s.value, s.unit]));

const eventsKey = (events: readonly NewEvent[]) =>
  JSON.stringify(events.map((e) => [e.eventType, e.startTime.getTime(), e.endTime?.getTime() ?? null, canonicalJson(JSON.parse(JSON.stringify(e.metadata ?? null)))]));

function fromCreate(input: ActivityCreate | NonNullable<ActivityCreate['children']>[number], prepared: PreparedStreams[number] | undefined): Derived {
  const record = input as Record<string, unknown>;
  return {
    promoted: Object.fromEntries(PROMOTED.map((field) => [field, record[field] ?? null])) as Record<Promoted, unknown>,
    statistics: input.statistics ?? [],
    events: (input.events ?? []).map((event) => ({ ...event, endTime: event.endTime ?? null, metadata: event.metadata ?? null })),
    sourceData: input.sourceData ?? null,
    streams: Object.entries(prepared ?? {}).flatMap(([type, stream]) => (stream?.ok ? [[type as StreamType, stream.value] as [StreamType, PreparedUpload]] : [])),
  };
}

function fromNormalized(fields: NormalizedFields, streams: [StreamType, PreparedUpload][]): Derived {
  const record = fields as unknown as Record<string, unknown>;
  return {
    promoted: Object.fromEntries(PROMOTED.map((field) => [field, record[field] ?? null])) as Record<Promoted, unknown>,
    statistics: fields.statistics,
    events: fields.events,
    streams,
  };
}

/**
 * Reprocess (README "Reprocess"): every activity of an athlete derived again from its archived
 * original with today's parsers and mappers (files through the importer's deriveFile, sync bodies
 * through mapSyncItem), compared with what is stored, and rewritten only where it differs: through
 * ActivitiesService.replacePayload (revision + 1, duplicate regrouping, the change feed's triggers)
 * and StreamsService.storePreparedStreams (the versioned write path), fields the user edited kept.
 * Rejected files that parse now are imported by the importer itself. A job on the imports' pg-boss.
 */
@Injectable()
export class ReprocessService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Reprocess');
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly jobs: ReprocessRepository,
    private readonly queue: ImportQueue,
    private readonly athletes: AthletesService,
    private readonly activities: ActivitiesService,
    private readonly streams: StreamsService,
    private readonly imports: ImportsService,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    @Inject(MAPPING_TWEAKS) private readonly tweaks: MappingTweaks,
  ) {}

  /** The worker starts in the background: the server boots (and answers 503) while the database is unreachable. */
  onApplicationBootstrap(): void {
    void this.startWorker();
  }

  onModuleDestroy(): void {
    if (this.retry) clearTimeout(this.retry);
  }

  private async startWorker(): Promise<void> {
    try {
      await this.queue.workOn(REPROCESS_JOBS, (id) => this.runJob(id));
    } catch (error) {
      this.logger.warn(`Reprocess jobs not started yet (retrying in 5 s): ${error instanceof Error ? error.message : String(error)}`);
      this.retry = setTimeout(() => void this.startWorker(), 5_000);
      this.retry.unref();
    }
  }

  async create(userId: string, athleteId: string, input: { sources?: ActivitySource[]; since?: Date; dryRun?: boolean }): Promise<ReprocessJob> {
    await this.athletes.assertOwned(userId, athleteId);
    const options = {
      ...(input.sources ? { sources: [...new Set(input.sources)] } : {}),
      ...(input.since ? { since: input.since.toISOString() } : {}),
      dryRun: input.dryRun ?? false,
    };
    const row = await this.jobs.insert({ id: randomUUID(), athleteId, userId, options });
    await this.queue.sendTo(REPROCESS_JOBS, row.id);
    return toJob(row);
  }

  async getJob(userId: string, jobId: string): Promise<ReprocessJob> {
    const row = await this.jobs.findById(jobId);
    if (!row || row.userId !== userId) throw notFound();
    return toJob(row);
  }

  /** Runs one job from the start (a retry after a crash starts over: what was rewritten is unchanged then); throwing hands it back to pg-boss. */
  async runJob(jobId: string): Promise<void> {
    const job = await this.jobs.findById(jobId);
    if (!job || job.status === 'completed') return;
    await this.jobs.update(jobId, { status: 'running', startedAt: new Date(), error: null, originalsDone: 0, originalsTotal: null, result: null });
    let written = 0;
    try {
      const { sources, since, dryRun } = job.options;
      const result = await this.reprocessAthlete(
        { userId: job.userId, athleteId: job.athleteId },
        { ...(sources ? { sources: sources as ActivitySource[] } : {}), ...(since ? { since: new Date(since) } : {}), dryRun },
        async (done, total, partial) => {
          if (done > 0 && done < total && Date.now() - written < PROGRESS_MS) return;
          written = Date.now();
          await this.jobs.update(jobId, { originalsDone: done, originalsTotal: total, result: partial });
        },
      );
      await this.jobs.update(jobId, { status: 'completed', result, finishedAt: new Date() });
    } catch (error) {
      this.logger.error(`Reprocess ${jobId} failed: ${String(error)}`);
      await this.jobs.update(jobId, { status: 'failed', error: 'The reprocess stopped on a server error; it is retried automatically' });
      throw error;
    }
  }

  /**
   * The reprocess itself (the job, and `npm run reprocess`): every original of the athlete matching
   * the options, in a stable order; `progress` is told after each one.
   */
  async reprocessAthlete(
    owner: ImportOwner,
    options: ReprocessOptions,
    progress?: (done: number, total: number, result: ReprocessResult) => Promise<void> | void,
  ): Promise<ReprocessResult> {
    const filter: OriginalFilter = { athleteId: owner.athleteId, ...(options.sources ? { sources: options.sources } : {}), ...(options.since ? { since: options.since } : {}) };
    const total = await this.jobs.countOriginals(filter);
    const tally = new Tally();
    let done = 0;
    await progress?.(done, total, tally.result);
    let after: string | undefined;
    for (;;) {
      const page = await this.jobs.originalsPage(filter, after, PAGE);
      if (page.length === 0) break;
      for (const original of page) {
        await this.reprocessOriginal(owner, original, options.dryRun, tally);
        await progress?.(++done, Math.max(total, done), tally.result);
      }
      after = page.at(-1)!.id;
    }
    return tally.result;
  }

  private async reprocessOriginal(owner: ImportOwner, original: OriginalRow, dryRun: boolean, tally: Tally): Promise<void> {
    const rows = original.status === 'imported' ? await this.jobs.activitiesFrom(owner.athleteId, original.objectKey) : [];
    // The activities that carry their own item of the original: a file's top-level ones, a sync body's items.
    const items = original.source === 'file' ? rows.filter((row) => row.parentId === null) : rows.filter((row) => row.sourceArchiveIndex !== null);
    if (original.status === 'imported' && items.length === 0) return;
    if (original.status === 'rejected' && original.source !== 'file') return;
    let bytes: Uint8Array;
    try {
      bytes = await decodeOriginal(original.objectKey, await this.store.get(original.objectKey));
    } catch (error) {
      if (!(error instanceof ObjectNotFoundError)) throw error;
      this.logger.error(`The original ${original.objectKey} is listed but missing from object storage`);
      if (original.status === 'rejected') tally.fail(null, original.sha256, 'the original is missing from object storage');
      for (const row of items) tally.fail(row.id, original.sha256, 'the original is missing from object storage');
      return;
    }
    if (original.status === 'rejected') return this.retryRejected(owner, original, bytes, dryRun, tally);
    if (original.source === 'file') return this.reprocessFile(owner, original, bytes, items, dryRun, tally);
    return this.reprocessSyncBody(owner, original, bytes, items, dryRun, tally);
  }

  private fileName(original: OriginalRow): string {
    return original.fileName ?? `${original.sha256}${originalExtension(original.objectKey)}`;
  }

  /** A rejected file that parses now is imported by the importer (the original becomes imported); one that does not stays as it is. */
  private async retryRejected(owner: ImportOwner, original: OriginalRow, bytes: Uint8Array, dryRun: boolean, tally: Tally): Promise<void> {
    const name = this.fileName(original);
    const derived = await this.imports.deriveFile(owner, name, bytes, original.sha256);
    if (!derived.ok) {
      tally.result.stillRejected++;
      return;
    }
    // The stream types of each activity: prepared streams are listed per activity in file order, each one's legs right after it.
    let offset = 0;
    const streams = derived.activities.map((activity) => {
      const types = Object.entries(derived.prepared[offset] ?? {}).flatMap(([type, stream]) => (stream?.ok ? [type] : []));
      offset += 1 + activity.children.length;
      return types;
    });
    if (dryRun) {
      for (const types of streams) {
        tally.result.created++;
        tally.change({ activityId: null, sha256: original.sha256, outcome: 'created', fields: [], streams: types });
      }
      return;
    }
    const result = await this.imports.importLeaf(owner, { kind: 'file', name, bytes });
    if (result.status === 'rejected') {
      tally.result.stillRejected++;
      return;
    }
    // The importer answers the activities it created in file order.
    result.activityIds.forEach((activityId, index) => {
      tally.result.created++;
      tally.change({ activityId, sha256: original.sha256, outcome: 'created', fields: [], streams: result.activityIds.length === streams.length ? streams[index]! : [] });
    });
  }

  private async reprocessFile(owner: ImportOwner, original: OriginalRow, bytes: Uint8Array, items: ActivityRow[], dryRun: boolean, tally: Tally): Promise<void> {
    if (original.format === 'apple_health') {
      // An Apple Health workout is archived as the parser's JSON, not as the export: nothing to parse again.
      tally.result.skipped += items.length;
      return;
    }
    const derived = await this.imports.deriveFile(owner, this.fileName(original), bytes, original.sha256);
    if (!derived.ok) {
      for (const row of items) tally.fail(row.id, original.sha256, `the original no longer parses: ${derived.reason}`);
      return;
    }
    // Prepared streams are listed per activity in file order, each one's legs right after it.
    let offset = 0;
    const byExternalId = new Map<string, Target>();
    derived.inputs.forEach((input, index) => {
      const children = input.children ?? [];
      byExternalId.set(input.externalId!, {
        ...fromCreate(input, derived.prepared[offset]),
        children: children.map((child, leg) => fromCreate(child, derived.prepared[offset + 1 + leg])),
      });
      offset += 1 + derived.activities[index]!.children.length;
    });
    for (const row of items) {
      const target = row.externalId ? byExternalId.get(row.externalId) : undefined;
      if (!target) tally.fail(row.id, original.sha256, 'the original no longer yields this activity');
      else await this.apply(owner, original.sha256, row, target, dryRun, tally);
    }
  }

  private async reprocessSyncBody(owner: ImportOwner, original: OriginalRow, body: Uint8Array, items: ActivityRow[], dryRun: boolean, tally: Tally): Promise<void> {
    const source = original.source as SyncSource;
    for (const row of items) {
      let raw: Record<string, unknown>;
      try {
        const item = archivedItem(body, row.sourceArchiveIndex!);
        if (!item) throw new ArchivedBodyError(`no item ${row.sourceArchiveIndex}`);
        raw = JSON.parse(new TextDecoder().decode(item)) as Record<string, unknown>;
      } catch (error) {
        if (!(error instanceof ArchivedBodyError) && !(error instanceof SyntaxError)) throw error;
        tally.fail(row.id, original.sha256, `the item cannot be read from its archived body: ${error.message}`);
        continue;
      }
      let mapped;
      try {
        mapped = mapSyncItem(source, raw, this.tweaks);
      } catch (error) {
        if (!(error instanceof TooManySamplesError)) throw error;
        tally.fail(row.id, original.sha256, error.message);
        continue;
      }
      if ('issues' in mapped) {
        tally.fail(row.id, original.sha256, `the item no longer maps: ${mapped.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
        continue;
      }
      const { activity } = mapped;
      if (activity.externalId !== row.externalId) {
        tally.fail(row.id, original.sha256, `the item now maps to external id "${activity.externalId}"`);
        continue;
      }
      const altitude = activity.streams.find((stream) => stream.type === 'altitude')?.samples;
      const streams: [StreamType, PreparedUpload][] = [];
      for (const stream of activity.streams) {
        // A value is stored once (docs/data-model.md §10), as the sync batch stores it.
        const samples = isPositionSamples(stream.samples) && altitude && !isPositionSamples(altitude) ? withoutRepeatedAltitude(stream.samples, altitude) : stream.samples;
        const prepared = await prepareUpload({ name: 'prepareUpload', type: stream.type, window: { startMs: activity.startTime.getTime(), endMs: activity.endTime.getTime() }, source: { samples } });
        if (prepared.ok) streams.push([stream.type, prepared.value]);
      }
      const target: Target = {
        ...fromNormalized(activity, streams),
        children: activity.children.map((child) => fromNormalized(child, [])),
        sourceDataHash: payloadHash(raw),
      };
      await this.apply(owner, original.sha256, row, target, dryRun, tally);
    }
  }

  /** What differs between a stored row and its derivation; fields the user edited are never taken. */
  private async difference(row: ActivityRow, derived: Derived): Promise<Difference> {
    const edited = new Set(row.editedFields);
    const stored = await this.jobs.details(row.id);
    const fields: string[] = [];
    const payload: Difference['payload'] = {};
    for (const field of PROMOTED) {
      if (edited.has(field) || same(row[field], derived.promoted[field])) continue;
      fields.push(field);
      (payload as Record<string, unknown>)[field] = derived.promoted[field];
    }
    if (!edited.has('statistics') && statisticsKey(stored.statistics) !== statisticsKey(derived.statistics)) {
      fields.push('statistics');
      payload.statistics = derived.statistics;
    }
    if (!edited.has('events') && eventsKey(stored.events) !== eventsKey(derived.events)) {
      fields.push('events');
      payload.events = derived.events;
    }
    if (derived.sourceData !== undefined && !sameJson(derived.sourceData, row.sourceData)) {
      fields.push('sourceData');
      payload.sourceData = derived.sourceData;
    }
    const streams = derived.streams.filter(([type, prepared]) => stored.checksums.get(type) !== prepared.checksumSha256);
    return { fields, payload, streams };
  }

  /** Compares one activity (with its legs) and, unless a dry run, writes what differs through the normal write paths. */
  private async apply(owner: ImportOwner, sha256: string, row: ActivityRow, target: Target, dryRun: boolean, tally: Tally): Promise<void> {
    const prefix = `${row.externalId ?? ''}#`;
    // The legs stored as part of this item: a file's carry its external id and #n, a sync item's have none.
    const legs = (await this.jobs.childrenOf(owner.athleteId, row.id)).filter((child) => child.externalId === null || child.externalId.startsWith(prefix));
    if (legs.length !== target.children.length) {
      tally.fail(row.id, sha256, `the original now holds ${target.children.length} leg(s) where ${legs.length} are stored; left as it is`);
      return;
    }
    const own = await this.difference(row, target);
    const children = await Promise.all(legs.map((leg, index) => this.difference(leg, target.children[index]!)));
    const fields = [...own.fields, ...children.flatMap((child, index) => child.fields.map((field) => `children[${index}].${field}`))];
    const streams = [...own.streams.map(([type]) => type), ...children.flatMap((child, index) => child.streams.map(([type]) => `children[${index}].${type}`))];
    if (fields.length === 0 && streams.length === 0) {
      tally.result.unchanged++;
      return;
    }
    if (dryRun) {
      tally.result.updated++;
      tally.change({ activityId: row.id, sha256, outcome: 'updated', fields, streams });
      return;
    }

    const changed = [
      { row, difference: own },
      ...legs.map((leg, index) => ({ row: leg, difference: children[index]! })),
    ].filter(({ difference }) => difference.fields.length > 0 || difference.streams.length > 0);
    const hash = target.sourceDataHash && !row.sourceDataHash?.startsWith(PENDING) ? { sourceDataHash: target.sourceDataHash } : {};
    // Each changed row once: revision + 1, regrouped, in one transaction (the change feed's triggers fire in it).
    const written = await this.activities.transaction(async (tx) => {
      // An edit or a sync batch that changed a row since it was compared wins: nothing is written.
      if ((await this.jobs.lockUnchangedSince(tx, [row, ...legs])).length > 0) return undefined;
      const rows = new Map<string, ActivityRow>();
      for (const { row: current, difference } of changed) {
        const payload = { ...difference.payload, ...(current === row ? hash : {}), ...(current.sourceDataReceivedAt ? { sourceDataReceivedAt: current.sourceDataReceivedAt } : {}) };
        rows.set(current.id, await this.activities.replacePayload(owner.userId, current.id, payload, tx));
      }
      return rows;
    });
    if (!written) {
      tally.fail(row.id, sha256, 'the activity changed while it was reprocessed (an edit or a sync); run the reprocess again');
      return;
    }
    tally.result.updated++;
    tally.change({ activityId: row.id, sha256, outcome: 'updated', fields, streams });
    for (const { row: current, difference } of changed) {
      if (difference.streams.length === 0) continue;
      const now = written.get(current.id)!;
      const { rejected } = await this.streams.storePreparedStreams(
        { id: now.id, athleteId: now.athleteId, startTime: now.startTime, endTime: now.endTime },
        Object.fromEntries(difference.streams),
      );
      for (const { type, error } of rejected) this.logger.warn(`Reprocess of ${now.id}: ${type} stream not stored: ${error.message}`);
    }
  }
}

function toJob(row: ReprocessJobRow): ReprocessJob {
  const { sources, since, dryRun } = row.options;
  return {
    id: row.id,
    athleteId: row.athleteId,
    status: row.status,
    dryRun,
    sources: (sources as ActivitySource[] | undefined) ?? null,
    since: since ? new Date(since) : null,
    progress: { done: row.originalsDone, total: row.originalsTotal },
    result: row.result ?? null,
    error: row.error,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
  };
}
