import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ORPCError } from '@orpc/server';
import type { SyncSource } from '@unified-activity/contract';
import {
  MAX_BATCH_ACTIVITIES,
  STALE_RUN_SECONDS,
  type NotAWorkoutData,
  type SyncRunningData,
  SYNC_ITEM_FIELDS,
  type SyncBatch,
  type SyncBatchResult,
  type SyncItemField,
  type SyncState,
} from '@unified-activity/contract';
import { isUniqueViolation, pgError, PG_CHECK_VIOLATION } from '../../database/errors.js';
import type { SyncStateRow } from '../../database/schema/index.js';
import { ActivitiesService, type SourceActivity } from '../activities/activities.service.js';
import { keepMovingTimeWithinElapsed } from '../activities/moving-time.js';
import { malformedRequest, objectStorageUnavailable, toApiIssues, type ApiIssue } from '../api/errors.js';
import { AthletesService } from '../athletes/athletes.service.js';
import { withoutRepeatedAltitude } from '../streams/altitude-once.js';
import { ObjectStoreUnavailableError } from '../streams/storage/object-store.js';
import { SampleValidationError, TooManySamplesError, validateSamples } from '../streams/stream-samples.js';
import { isPositionSamples } from '../streams/stream-types.js';
import { StreamsService } from '../streams/streams.service.js';
import { MAPPER_VERSION, MAPPERS } from './mappers/index.js';
import { MappingError, type IgnoredItem, type NormalizedActivity } from './mappers/normalized.js';
import { OriginalsService } from '../originals/originals.service.js';
import { RawArchive } from './raw-archive.js';
import { MAPPING_TWEAKS, type MappingTweaks } from '../imports/mapping-tweaks.js';
import { SyncRepository } from './sync.repository.js';

/** At most this many issues in one 422, so a batch of 500 broken items still answers quickly. */
const MAX_ISSUES = 100;
/** A unique-index conflict inside a batch means a concurrent writer outside the sync lock; retried once. */
const CONFLICT_RETRIES = 1;
/** Marks a stored hash whose streams are not written yet: a replay then rewrites the activity. */
const PENDING = 'pending:';

/** A sync state's public shape (the sync routes; the sync.finished webhook). */
export const toState = (row: SyncStateRow): SyncState => ({
  athleteId: row.athleteId,
  source: row.source as SyncSource,
  cursor: row.cursor,
  status: row.status,
  lastSyncedAt: row.lastSyncedAt,
  lastAttemptAt: row.lastAttemptAt,
  lastError: row.lastError,
  runStartedAt: row.runStartedAt,
  lastBatchAt: row.lastBatchAt,
  counters: { created: row.createdCount, updated: row.updatedCount, unchanged: row.unchangedCount, deleted: row.deletedCount, batches: row.batchCount },
  updatedAt: row.updatedAt,
});

const neverSynced = (athleteId: string, source: SyncSource): SyncState => ({
  athleteId,
  source,
  cursor: null,
  status: 'idle',
  lastSyncedAt: null,
  lastAttemptAt: null,
  lastError: null,
  runStartedAt: null,
  lastBatchAt: null,
  counters: { created: 0, updated: 0, unchanged: 0, deleted: 0, batches: 0 },
  updatedAt: null,
});

/** JSON with object keys sorted: the same values hash the same whatever order the client wrote them in. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i > 0 ? ',' : '') + canonicalJson(value[i] === undefined ? null : value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const child = record[key];
    if (child === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJson(child)}`;
    first = false;
  }
  return `${out}}`;
}

export const payloadHash = (item: unknown) => createHash('sha256').update(`v${MAPPER_VERSION}\n`).update(canonicalJson(item)).digest('hex');

const unprocessable = (issues: ApiIssue[]) =>
  new ORPCError('UNPROCESSABLE_CONTENT', {
    message: `The batch has ${issues.length >= MAX_ISSUES ? 'many' : issues.length} invalid item field(s); nothing was written`,
    data: { issues: issues.slice(0, MAX_ISSUES) },
  });

/** One item of the body: where it is (its field and index there) and its position over all item fields (the archive index). */
interface BatchItem {
  field: SyncItemField;
  index: number;
  ordinal: number;
  raw: Record<string, unknown>;
}

/** A batch of items none of which is a workout, and nothing else (no deletion, no cursor): refused, nothing written. */
const notAWorkout = (ignored: Ignored[]) =>
  new ORPCError('NOT_A_WORKOUT', {
    status: 422,
    message: `None of the ${ignored.length} item(s) is a workout (${[...new Set(ignored.map((i) => i.ignored.itemType))].join(', ')}); nothing was written`,
    data: {
      items: ignored.slice(0, MAX_ISSUES).map(({ field, index, ignored: why }) => ({ field, index, externalId: why.externalId, itemType: why.itemType, reason: why.reason })),
    } satisfies NotAWorkoutData,
  });

interface Prepared extends BatchItem {
  activity: NormalizedActivity;
  hash: string;
  /** What the server changed in the mapped values, answered with the item's result. */
  warnings: string[];
}

/** The derived-value rules every source passes through (docs/data-model.md §5), on the activity and its legs. */
function derivedValueWarnings(activity: NormalizedActivity): string[] {
  const warnings: string[] = [];
  const own = keepMovingTimeWithinElapsed(activity);
  if (own) warnings.push(own);
  activity.children.forEach((child, i) => {
    const leg = keepMovingTimeWithinElapsed(child);
    if (leg) warnings.push(`leg ${i + 1}: ${leg}`);
  });
  return warnings;
}

export type MappedSyncItem = { activity: NormalizedActivity; warnings: string[] } | { issues: ApiIssue[] };

/**
 * One provider item (a workout) as today's mapper reads it, with the mapping tweaks (MappingTweaks),
 * its samples checked against it and the derived-value rules applied; or its problems, at paths
 * within the item. The sync batch and the reprocess (README "Reprocess") share it. Throws
 * TooManySamplesError for a stream above the sample limit.
 */
export function mapSyncItem(source: SyncSource, raw: Record<string, unknown>, tweaks: MappingTweaks): MappedSyncItem {
  const mapper = MAPPERS[source];
  const parsed = mapper.schema.safeParse(raw);
  if (!parsed.success) return { issues: toApiIssues(parsed.error.issues as never) };
  const issues: ApiIssue[] = [];
  let activity: NormalizedActivity;
  try {
    activity = mapper.map(parsed.data as never);
    tweaks.sync?.(activity, source);
  } catch (error) {
    if (error instanceof MappingError) return { issues: [{ path: error.path, message: error.message }] };
    throw error;
  }
  for (const stream of activity.streams) {
    try {
      validateSamples(stream.type, stream.samples, activity);
    } catch (error) {
      if (!(error instanceof SampleValidationError)) throw error;
      issues.push(...error.issues.map((issue) => ({ path: [...stream.path, ...issue.path], message: `${stream.type}: ${issue.message}` })));
    }
  }
  return issues.length > 0 ? { issues } : { activity, warnings: derivedValueWarnings(activity) };
}

interface Ignored extends BatchItem {
  ignored: IgnoredItem;
}

/**
 * The items of a batch, field by field in SYNC_ITEM_FIELDS order (`activities`, then the Garmin push
 * keys): their running position is the item's `sourceArchiveIndex`. Garmin push keys are for source
 * garmin only; a body needs `activities` or a Garmin push key.
 */
function batchItems(source: SyncSource, batch: SyncBatch): BatchItem[] {
  const items: BatchItem[] = [];
  const issues: ApiIssue[] = [];
  let present = 0;
  for (const field of SYNC_ITEM_FIELDS) {
    const list = (batch as Partial<Record<SyncItemField, Record<string, unknown>[]>>)[field];
    if (list === undefined) continue;
    present++;
    if (field !== 'activities' && source !== 'garmin') {
      issues.push({ path: [field], message: `a Garmin push key; ${source} items go in activities` });
      continue;
    }
    list.forEach((raw, index) => items.push({ field, index, ordinal: items.length, raw }));
  }
  if (present === 0) {
    throw malformedRequest([{ path: ['activities'], message: source === 'garmin' ? 'Required (or a Garmin push key such as activityDetails)' : 'Required' }]);
  }
  if (issues.length > 0) throw unprocessable(issues);
  return items;
}

@Injectable()
export class SyncService {
  private readonly logger = new Logger('Sync');

  constructor(
    private readonly sync: SyncRepository,
    private readonly athletes: AthletesService,
    private readonly activities: ActivitiesService,
    private readonly streams: StreamsService,
    private readonly archive: RawArchive,
    private readonly originals: OriginalsService,
    @Inject(MAPPING_TWEAKS) private readonly tweaks: MappingTweaks,
  ) {}

  async listStates(userId: string, athleteId: string) {
    await this.athletes.assertOwned(userId, athleteId);
    return { items: (await this.sync.findMany(athleteId)).map(toState), nextCursor: null };
  }

  async getState(userId: string, athleteId: string, source: SyncSource): Promise<SyncState> {
    await this.athletes.assertOwned(userId, athleteId);
    const row = await this.sync.findOne(athleteId, source);
    return row ? toState(row) : neverSynced(athleteId, source);
  }

  async updateState(userId: string, athleteId: string, source: SyncSource, cursor: string | null): Promise<SyncState> {
    await this.athletes.assertOwned(userId, athleteId);
    return this.sync.transaction(async (tx) => {
      const state = await this.sync.lock(tx, athleteId, source);
      return toState(await this.sync.update(tx, state.id, { cursor }));
    });
  }

  /** → running. Another live run (a batch or start within STALE_RUN_SECONDS) is a 409; a stale one is taken over. */
  async start(userId: string, athleteId: string, source: SyncSource): Promise<SyncState> {
    await this.athletes.assertOwned(userId, athleteId);
    return this.sync.transaction(async (tx) => {
      const state = await this.sync.lock(tx, athleteId, source);
      const now = new Date();
      const lastSign = Math.max(state.runStartedAt?.getTime() ?? 0, state.lastBatchAt?.getTime() ?? 0);
      const staleAt = new Date(lastSign + STALE_RUN_SECONDS * 1000);
      if (state.status === 'running' && staleAt > now) {
        throw new ORPCError('CONFLICT', {
          message: `A ${source} sync of this athlete is running (last activity ${new Date(lastSign).toISOString()}); it can be taken over from ${staleAt.toISOString()}`,
          data: { retryAfter: staleAt.toISOString() } satisfies SyncRunningData,
        });
      }
      return toState(await this.sync.update(tx, state.id, { status: 'running', runStartedAt: now, lastAttemptAt: now, lastError: null }));
    });
  }

  async finish(userId: string, athleteId: string, source: SyncSource, input: { cursor?: string | null; error?: string }): Promise<SyncState> {
    await this.athletes.assertOwned(userId, athleteId);
    if (input.error !== undefined && input.cursor !== undefined) {
      throw new ORPCError('UNPROCESSABLE_CONTENT', {
        message: 'Finish with either a cursor or an error',
        data: { issues: [{ path: ['error'], message: 'not together with cursor: a failed sync keeps its cursor' }] },
      });
    }
    return this.sync.transaction(async (tx) => {
      const state = await this.sync.lock(tx, athleteId, source);
      const now = new Date();
      const changes =
        input.error !== undefined
          ? { status: 'error' as const, lastError: input.error, lastAttemptAt: now }
          : { status: 'idle' as const, lastError: null, lastSyncedAt: now, ...(input.cursor !== undefined ? { cursor: input.cursor } : {}) };
      return toState(await this.sync.update(tx, state.id, changes));
    });
  }

  /**
   * The batch, all or nothing (issue 11): validate and map every item, archive the exact body, then
   * one transaction under the (athlete, source) lock upserts, deletes and moves the cursor. Streams are
   * written after the commit through the streams module (object first); until they are, the stored
   * hash is marked pending, so resending the batch completes them. Items that are not workouts are
   * answered `ignored` (they stay in the archived body); a batch of nothing else is NOT_A_WORKOUT.
   */
  async ingestBatch(userId: string, athleteId: string, source: SyncSource, batch: SyncBatch, rawBody?: Uint8Array): Promise<SyncBatchResult> {
    const athlete = await this.athletes.get(userId, athleteId);
    const all = batchItems(source, batch);
    if (all.length > MAX_BATCH_ACTIVITIES) {
      throw new ORPCError('PAYLOAD_TOO_LARGE', {
        message: `${all.length} activities in one batch; at most ${MAX_BATCH_ACTIVITIES} are accepted. Split it.`,
      });
    }
    const { prepared, ignored } = this.prepare(source, all, batch.deletedExternalIds ?? []);
    const deletedExternalIds = [...new Set(batch.deletedExternalIds ?? [])];
    if (prepared.length === 0 && ignored.length > 0 && deletedExternalIds.length === 0 && batch.cursor === undefined) throw notAWorkout(ignored);

    // The later item with the same external id wins; the earlier ones are answered as superseded.
    const winner = new Map<string, number>();
    for (const item of prepared) winner.set(item.activity.externalId, item.ordinal);
    const winners = prepared.filter((item) => winner.get(item.activity.externalId) === item.ordinal);

    const bytes = rawBody ?? new TextEncoder().encode(JSON.stringify(batch));
    const archived = await this.storeOrUnavailable(() => this.archive.put(athlete.id, source, bytes, 'json'));
    const receivedAt = new Date();
    const items: SourceActivity[] = winners.map(({ ordinal, raw, activity, hash }) => ({
      index: ordinal,
      externalId: activity.externalId,
      parentExternalId: activity.parentExternalId,
      fields: activity,
      children: activity.children,
      sourceData: raw,
      sourceDataHash: hash,
      ...(activity.streams.length > 0 ? { storedHash: PENDING + hash } : {}),
      archiveIndex: ordinal,
    }));

    const { results, deletion, state } = await this.withConflictRetry(() =>
      this.sync.transaction(async (tx) => {
        const current = await this.sync.lock(tx, athlete.id, source);
        const results = await this.activities.upsertFromSource(tx, {
          userId,
          athleteId: athlete.id,
          source,
          receivedAt,
          archiveKey: archived.key,
          items,
        });
        const deletion = await this.activities.deleteFromSource(tx, userId, athlete.id, source, deletedExternalIds);
        const count = (outcome: string) => results.filter((r) => r.outcome === outcome).length;
        const state = await this.sync.recordBatch(
          tx,
          current.id,
          { created: count('created'), updated: count('updated'), unchanged: count('unchanged'), deleted: deletion.deleted.length },
          { lastBatchAt: receivedAt, lastAttemptAt: receivedAt, ...(batch.cursor !== undefined ? { cursor: batch.cursor } : {}) },
        );
        return { results, deletion, state };
      }),
    );

    // The body is listed among the athlete's originals (GET /athletes/{id}/originals); a replay finds it listed.
    await this.originals.record({
      athleteId: athlete.id,
      sha256: archived.sha256,
      source,
      objectKey: archived.key,
      fileName: null,
      format: 'json',
      byteSize: archived.byteSize,
      storedByteSize: archived.storedByteSize,
      status: 'imported',
      receivedAt,
    });
    if (deletion.deleted.length > 0) this.streams.removeQueuedObjectsSoon();
    const byIndex = new Map(results.map((r) => [r.index, r]));
    await this.writeStreams(winners.filter((item) => byIndex.get(item.ordinal)?.outcome !== 'unchanged' && item.activity.streams.length > 0), byIndex, userId, athlete.id);

    const deletedIds = new Map(deletion.deleted.map((d) => [d.externalId, d.id]));
    const byOrdinal = new Map(prepared.map((p) => [p.ordinal, p]));
    const stored = prepared.map(({ field, index, ordinal, activity, warnings }) => {
      const winning = winner.get(activity.externalId)!;
      const result = byIndex.get(winning)!;
      if (winning !== ordinal) {
        return { field, index, ordinal, externalId: activity.externalId, id: result.id, outcome: 'superseded' as const, revision: result.revision, supersededBy: byOrdinal.get(winning)!.index };
      }
      const earlier = prepared.filter((p) => p.activity.externalId === activity.externalId && p.ordinal < ordinal).map((p) => p.index);
      return {
        field,
        index,
        ordinal,
        externalId: activity.externalId,
        id: result.id,
        outcome: result.outcome,
        revision: result.revision,
        ...(earlier.length > 0 ? { supersedes: earlier } : {}),
        ...(warnings.length > 0 ? { warnings } : {}),
      };
    });
    const skipped = ignored.map(({ field, index, ordinal, ignored: why }) => ({ field, index, ordinal, externalId: why.externalId, outcome: 'ignored' as const, itemType: why.itemType, reason: why.reason }));
    const answer = [...stored, ...skipped].sort((a, b) => a.ordinal - b.ordinal).map(({ ordinal: _ordinal, ...result }) => result);
    return {
      created: results.filter((r) => r.outcome === 'created').length,
      updated: results.filter((r) => r.outcome === 'updated').length,
      unchanged: results.filter((r) => r.outcome === 'unchanged').length,
      deleted: deletion.deleted.length,
      ignored: ignored.length,
      results: answer,
      deletions: deletedExternalIds.map((externalId) => ({
        externalId,
        id: deletedIds.get(externalId) ?? null,
        outcome: deletedIds.has(externalId) ? ('deleted' as const) : ('not_found' as const),
      })),
      archiveKey: archived.key,
      syncState: toState(state),
    };
  }

  /**
   * Sets aside the items that are not workouts (answered `ignored`), then parses, maps and checks
   * every other item (samples included) before anything is written; 422 with every problem at its path.
   */
  private prepare(source: SyncSource, all: BatchItem[], deletedExternalIds: string[]): { prepared: Prepared[]; ignored: Ignored[] } {
    const mapper = MAPPERS[source];
    const issues: ApiIssue[] = [];
    const prepared: Prepared[] = [];
    const ignored: Ignored[] = [];
    for (const item of all) {
      if (issues.length >= MAX_ISSUES) break;
      const { field, index, raw } = item;
      const skip = mapper.notAWorkout?.(raw, field);
      if (skip) {
        ignored.push({ ...item, ignored: skip });
        continue;
      }
      let mapped: MappedSyncItem;
      try {
        mapped = mapSyncItem(source, raw, this.tweaks);
      } catch (error) {
        if (error instanceof TooManySamplesError) throw new ORPCError('PAYLOAD_TOO_LARGE', { message: `${field}[${index}]: ${error.message}` });
        throw error;
      }
      if ('issues' in mapped) issues.push(...mapped.issues.map((issue) => ({ path: [field, index, ...issue.path], message: issue.message })));
      else prepared.push({ ...item, activity: mapped.activity, hash: payloadHash(raw), warnings: mapped.warnings });
    }
    const deleted = new Set(deletedExternalIds);
    for (const item of prepared) {
      if (deleted.has(item.activity.externalId)) {
        issues.push({ path: ['deletedExternalIds'], message: `"${item.activity.externalId}" is also in ${item.field} (index ${item.index}); send it in one of the two` });
      }
    }
    if (issues.length > 0) throw unprocessable(issues);
    return { prepared, ignored };
  }

  private async writeStreams(items: Prepared[], results: Map<number, { id: string }>, userId: string, athleteId: string): Promise<void> {
    for (const item of items) {
      const id = results.get(item.ordinal)!.id;
      try {
        const altitude = item.activity.streams.find((stream) => stream.type === 'altitude')?.samples;
        for (const stream of item.activity.streams) {
          // A value is stored once (docs/data-model.md §10), as for an imported file.
          const samples = isPositionSamples(stream.samples) && altitude && !isPositionSamples(altitude) ? withoutRepeatedAltitude(stream.samples, altitude) : stream.samples;
          await this.streams.replaceStream({ id, athleteId, startTime: item.activity.startTime, endTime: item.activity.endTime }, stream.type, samples);
        }
        await this.activities.setSourceDataHash(userId, id, item.hash);
      } catch (error) {
        this.logger.error(`Streams of activity ${id} not stored: ${String(error)}`);
        throw new ORPCError('SERVICE_UNAVAILABLE', {
          message: `The activities are stored but the streams of ${item.field}[${item.index}] could not be; send the same batch again to complete them`,
        });
      }
    }
  }

  private async withConflictRetry<T>(work: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (isUniqueViolation(error) && attempt < CONFLICT_RETRIES) continue;
        if (isUniqueViolation(error)) throw new ORPCError('CONFLICT', { message: 'Another request wrote the same activities at the same time; send the batch again' });
        if (pgError(error)?.code === PG_CHECK_VIOLATION) {
          throw new ORPCError('UNPROCESSABLE_CONTENT', { message: `The batch breaks a rule of the data model (${pgError(error)?.constraint ?? 'a check'}); nothing was written` });
        }
        throw error;
      }
    }
  }

  private async storeOrUnavailable<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof ObjectStoreUnavailableError) {
        throw objectStorageUnavailable('nothing was written');
      }
      throw error;
    }
  }
}
