import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { Injectable } from '@nestjs/common';
import { ORPCError } from '@orpc/server';
import { activityTypes } from '../../../libs/seed-data/activity-types.js';
import type {
  ActivityChildCreate,
  ActivityCreate,
  ActivityExistsData,
  ActivityDetail,
  ActivityList,
  ActivityListQuery,
  ActivityUpdate,
} from '@unified-activity/contract';
import type { Transaction } from '../../database/database.js';
import { isUniqueViolation, pgError, PG_CHECK_VIOLATION, PG_DEADLOCK, PG_FOREIGN_KEY_VIOLATION } from '../../database/errors.js';
import { activities as activitiesTable, type ActivityRow, type NewActivityRow } from '../../database/schema/index.js';
import { AthletesService } from '../athletes/athletes.service.js';
import { ActivityTypesService } from '../catalog/activity-types.service.js';
import { StreamMetadataService } from '../streams/stream-metadata.service.js';
import { toActivityDetail, toActivityListItem } from './activities.mapper.js';
import { ActivitiesRepository } from './activities.repository.js';
import { malformedRequest, ruleViolation } from '../api/errors.js';
import { ActivityIngestRepository } from './activity-ingest.repository.js';
import type { ActivityPayload, ActivitySummaryRow, NewEvent, NewStatistic } from './activity-rows.js';
import { ActivityTimelineQuery, type ActivityFilter, type Keyset, type TimelineRow } from './activity-timeline.query.js';
import { DuplicateGroups } from './duplicates/duplicate-groups.js';
import { decodeCursor, encodeCursor } from './cursor.js';

const DEFAULT_PAGE_SIZE = 50;

const notFound = () => new ORPCError('NOT_FOUND', { message: 'Activity not found' });

const unprocessable = (path: (string | number)[], message: string) => ruleViolation([{ path, message }]);

const EXTERNAL_ID_KEY = 'activities_athlete_source_external_id_key';

@Injectable()
export class ActivitiesService {
  constructor(
    private readonly activities: ActivitiesRepository,
    private readonly timeline: ActivityTimelineQuery,
    private readonly ingest: ActivityIngestRepository,
    private readonly athletes: AthletesService,
    private readonly types: ActivityTypesService,
    private readonly streams: StreamMetadataService,
    private readonly duplicates: DuplicateGroups,
  ) {}

  /**
   * The duplicate grouping of a write (docs/data-model.md, "Duplicates across sources"): regroups
   * what was written, in the write's own transaction and under the athlete's lock, unless
   * DUPLICATE_DETECTION=false.
   */
  private async regroup(tx: Transaction, userId: string, athleteId: string, ids: readonly string[]): Promise<void> {
    if (this.duplicates.detection) await this.duplicates.regroup(tx, userId, athleteId, ids);
  }

  /** Deletes under the athlete's lock, then regroups the deleted activities' former group mates (a deleted primary's next member is promoted). */
  private async deleteRegrouping<T>(tx: Transaction, userId: string, athleteId: string, ids: () => Promise<readonly string[]>, remove: () => Promise<T>): Promise<T> {
    if (!this.duplicates.detection) return remove();
    await this.duplicates.lock(tx, athleteId);
    const mates = await this.duplicates.matesOf(tx, userId, await ids());
    const result = await remove();
    await this.duplicates.regroup(tx, userId, athleteId, mates);
    return result;
  }

  /**
   * After a stream of the activity was stored or deleted (streams module): re-elects its duplicate
   * group's primary, whose tie-breaker within one source is the richer record.
   */
  async streamsChanged(athleteId: string, id: string): Promise<void> {
    if (this.duplicates.detection) await this.duplicates.reelect(athleteId, id);
  }

  async get(userId: string, id: string): Promise<ActivityDetail> {
    // Both owner-scoped, so they run at once: a foreign id finds no row and no streams.
    const [found, streams] = await Promise.all([this.activities.findDetail(userId, id), this.streams.listOwned(userId, id)]);
    if (!found) throw notFound();
    const { row, statistics, events, children, duplicates } = found;
    const derived = withDerivedTotals(row, children);
    // A primary with copies answers the merged view: what it lacks, from its members by priority.
    const merged =
      row.duplicateOf === null && duplicates.length > 0
        ? await this.mergedFromMembers(userId, derived, statistics, streams)
        : { row: derived, statistics, fieldSources: {}, memberStreams: [] };
    return toActivityDetail({ ...merged, events, streams, children, duplicates });
  }

  /**
   * The merged view of a primary (docs/data-model.md, "Duplicates across sources"): each promoted
   * field it lacks (null), each statistic key and each stream type it does not have, from the
   * first member by source priority that has it; fieldSources names that member per field
   * (statistics as `statistics.<key>`). Read-time only: nothing is copied.
   */
  private async mergedFromMembers(userId: string, row: ActivityRow, statistics: NewStatistic[], streams: ActivityDetail['streams']) {
    const ranked = (await this.duplicates.groupOf(userId, row.id, null)).filter((id) => id !== row.id);
    const members = await Promise.all(
      ranked.map(async (id) => {
        const [member, memberStatistics, memberStreams] = await Promise.all([
          this.activities.findById(userId, id),
          this.activities.findStatistics(userId, id),
          this.streams.listOwned(userId, id),
        ]);
        return { id, member, statistics: memberStatistics, streams: memberStreams };
      }),
    );
    const { row: merged, fieldSources } = fillFromMembers(row, members.map(({ id, member }) => ({ id, row: member })));
    const mergedStatistics = [...statistics];
    const keys = new Set(statistics.map((statistic) => statistic.key));
    for (const { id, statistics: own } of members) {
      for (const statistic of own) {
        if (keys.has(statistic.key)) continue;
        keys.add(statistic.key);
        mergedStatistics.push({ key: statistic.key, value: statistic.value, unit: statistic.unit });
        fieldSources[`statistics.${statistic.key}`] = id;
      }
    }
    mergedStatistics.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const types = new Set(streams.map((stream) => stream.streamType));
    const memberStreams: ActivityDetail['memberStreams'] = [];
    for (const { id, streams: own } of members) {
      for (const stream of own) {
        if (types.has(stream.streamType)) continue;
        types.add(stream.streamType);
        memberStreams.push({ ...stream, activityId: id });
      }
    }
    return { row: merged, statistics: mergedStatistics, fieldSources, memberStreams };
  }

  /**
   * Joins an activity to another's duplicate group by hand (sticky: a `same` override), replacing
   * any split of the pair. Both must be activities of the same athlete, and not two parts of one session.
   */
  async joinDuplicateGroup(userId: string, id: string, otherId: string): Promise<ActivityDetail> {
    const [current, other] = await Promise.all([this.activities.findById(userId, id), this.activities.findById(userId, otherId)]);
    if (!current) throw notFound();
    if (id === otherId) throw unprocessable(['activityId'], 'an activity cannot be a duplicate of itself');
    if (!other) throw unprocessable(['activityId'], 'no such activity');
    if (other.athleteId !== current.athleteId) throw unprocessable(['activityId'], 'duplicates belong to one athlete');
    if ((current.parentId ?? current.id) === (other.parentId ?? other.id)) throw unprocessable(['activityId'], 'a session and its legs are parts of one workout, not copies');
    await this.activities.transaction(async (tx) => {
      await this.duplicates.override(tx, userId, current.athleteId, 'same', [[id, otherId]]);
      await this.duplicates.regroup(tx, userId, current.athleteId, [id, otherId]);
    });
    return this.get(userId, id);
  }

  /**
   * Splits an activity out of its group ("not a duplicate"): a `separate` override with every other
   * member, so no later detection (re-sync, re-import, priority change) puts it back.
   */
  async leaveDuplicateGroup(userId: string, id: string): Promise<ActivityDetail> {
    const current = await this.activities.findById(userId, id);
    if (!current) throw notFound();
    await this.activities.transaction(async (tx) => {
      await this.duplicates.lock(tx, current.athleteId);
      const mates = await this.duplicates.matesOf(tx, userId, [id]);
      if (mates.length === 0) return;
      await this.duplicates.removeJoins(tx, id);
      await this.duplicates.unpin(tx, [id]);
      await this.duplicates.override(tx, userId, current.athleteId, 'separate', mates.map((mate) => [id, mate]));
      await this.duplicates.regroup(tx, userId, current.athleteId, [id, ...mates]);
    });
    return this.get(userId, id);
  }

  /** Makes an activity its group's primary whatever the priority says (sticky: a `primary` override). */
  async makePrimary(userId: string, id: string): Promise<ActivityDetail> {
    const current = await this.activities.findById(userId, id);
    if (!current) throw notFound();
    await this.activities.transaction(async (tx) => {
      await this.duplicates.lock(tx, current.athleteId);
      const mates = await this.duplicates.matesOf(tx, userId, [id]);
      if (mates.length === 0) throw unprocessable(['id'], 'the activity is in no duplicate group');
      await this.duplicates.unpin(tx, mates);
      await this.duplicates.override(tx, userId, current.athleteId, 'primary', [[id, id]]);
      await this.duplicates.regroup(tx, userId, current.athleteId, [id, ...mates]);
    });
    return this.get(userId, id);
  }

  async list(userId: string, query: ActivityListQuery): Promise<ActivityList> {
    const filter: ActivityFilter = {
      userId,
      athleteId: query.athleteId,
      activityTypes: this.typeFilter(query),
      sources: query.source,
      startTimeFrom: query.startTimeFrom,
      startTimeTo: query.startTimeTo,
      topLevelOnly: query.topLevelOnly,
      parentId: query.parentId,
      primariesOnly: !query.includeDuplicates,
    };
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = query.cursor ? this.parseCursor(query.cursor) : undefined;
    const [rows, totals] = await Promise.all([
      this.timeline.findPage(filter, after, limit + 1),
      query.includeTotals ? this.timeline.totals(filter) : undefined,
    ]);
    // Rows are already scoped to the user's athletes; only an empty page can hide a foreign athleteId.
    if (rows.length === 0 && query.athleteId) await this.athletes.assertOwned(userId, query.athleteId);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: filter.primariesOnly ? await this.mergedItems(userId, page) : page.map((row) => toActivityListItem(row, {})),
      nextCursor: rows.length > limit && last ? encodeCursor({ startTimeMicros: BigInt(last.startTimeMicros), id: last.id }) : null,
      ...(totals ? { totals } : {}),
    };
  }

  /**
   * The default timeline's items (one per group): a primary with members answers its merged figures
   * — each promoted field it lacks from the first member by priority that has it, `fieldSources`
   * saying from which — as totals count it and the detail shows it (statistics and streams: the
   * detail). Only primaries lacking a field are looked at: one query for their members (with
   * richness) and one for the priorities, per page.
   */
  private async mergedItems(userId: string, page: TimelineRow[]): Promise<ActivityList['items']> {
    const lacking = page.filter((row) => row.duplicateCount > 0 && MERGED_FIELDS.some((field) => row[field] === null));
    const members = await this.duplicates.rankedMembersOf(userId, lacking);
    return page.map((row) => {
      const own = members.get(row.id);
      if (!own) return toActivityListItem(row, {});
      const merged = fillFromMembers(row, own.map((member) => ({ id: member.id, row: member })));
      return toActivityListItem(merged.row, merged.fieldSources);
    });
  }

  async create(userId: string, input: ActivityCreate): Promise<ActivityDetail> {
    const { id } = await this.insert(userId, input);
    return this.get(userId, id);
  }

  /**
   * What create does, without reading the detail view back: the inserted rows of the activity and
   * of its children, in input order. Imports use it (they need the ids and windows, not the detail).
   */
  async insert(userId: string, input: ActivityCreate): Promise<ActivityRow & { children: ActivityRow[] }> {
    // The athlete is read for its time zone (an omitted timeZone takes it) and before a parent is
    // checked; otherwise the composite foreign key (athlete_id, user_id) refuses anyone else's
    // athlete with the same 404 (translateRuleViolation), one statement less (an import gives the zone).
    const athlete = input.timeZone === undefined || input.parentId ? await this.athletes.get(userId, input.athleteId) : undefined;
    const athleteId = athlete?.id ?? input.athleteId;
    this.types.assertKnown(input.activityType, ['activityType']);
    input.children?.forEach((child, index) => this.types.assertKnown(child.activityType, ['children', index, 'activityType']));
    if (input.parentId) await this.assertValidParent(userId, input.parentId, athleteId, ['parentId']);

    // Omitted: the athlete's zone (the manual entry's default); null: unknown, kept so (§9).
    const timeZone = input.timeZone === undefined ? athlete!.timeZone : input.timeZone;
    const receivedAt = new Date();
    try {
      return await this.activities.transaction(async (tx) => {
        const parent = await this.insertOne(tx, { ...input, timeZone }, userId, athleteId, input.parentId ?? null, receivedAt);
        const children: ActivityRow[] = [];
        for (const child of input.children ?? []) {
          children.push(await this.insertOne(tx, { ...child, timeZone: child.timeZone === undefined ? timeZone : child.timeZone }, userId, athleteId, parent.id, receivedAt));
        }
        await this.regroup(tx, userId, athleteId, [parent.id, ...children.map((child) => child.id)]);
        return { ...parent, children };
      });
    } catch (error) {
      // The external-id key is per athlete: its violation, checked before the foreign key, says
      // nothing to someone whose athlete it is not (404 as above, not a 409).
      if (!athlete && isUniqueViolation(error, EXTERNAL_ID_KEY)) await this.athletes.get(userId, athleteId);
      throw await this.translateWriteError(error, userId, athleteId, input);
    }
  }

  async update(userId: string, input: ActivityUpdate): Promise<ActivityDetail> {
    const { id, statistics, events, parentId, ...fields } = input;
    const current = await this.activities.findById(userId, id);
    if (!current) throw notFound();
    if (fields.activityType) this.types.assertKnown(fields.activityType, ['activityType']);
    const startTime = fields.startTime ?? current.startTime;
    const endTime = fields.endTime ?? current.endTime;
    if (endTime < startTime) throw unprocessable(['endTime'], 'must not be before startTime');
    const durationS = fields.durationS !== undefined ? fields.durationS : current.durationS;
    const movingTimeS = fields.movingTimeS !== undefined ? fields.movingTimeS : current.movingTimeS;
    if (movingTimeS != null && durationS != null && movingTimeS > durationS) {
      throw unprocessable([fields.movingTimeS !== undefined ? 'movingTimeS' : 'durationS'], 'moving time must not exceed durationS (the elapsed time)');
    }
    if (parentId) {
      if (parentId === id) throw unprocessable(['parentId'], 'an activity cannot be its own parent');
      await this.assertValidParent(userId, parentId, current.athleteId, ['parentId']);
      if ((await this.activities.countChildren(userId, id)) > 0) {
        throw unprocessable(['parentId'], 'this activity has children; a child cannot have children of its own');
      }
    }

    try {
      await this.activities.transaction(async (tx) => {
        const changes: Partial<NewActivityRow> = { ...fields, ...(parentId !== undefined ? { parentId } : {}) };
        if (Object.keys(changes).length > 0 || statistics || events) {
          // What the user changed wins over a later reprocess from the original (docs/data-model.md, "Reprocessing").
          const edited = [...Object.entries(fields).flatMap(([key, value]) => (value === undefined ? [] : [key])), ...(statistics ? ['statistics'] : []), ...(events ? ['events'] : [])];
          if (!(await this.activities.update(tx, userId, id, { ...changes, editedFields: withEdited(edited), updatedAt: new Date() }))) throw notFound();
        }
        if (statistics) await this.activities.replaceStatistics(tx, userId, id, statistics);
        if (events) await this.activities.replaceEvents(tx, userId, id, events.map(toNewEvent));
        // Times, type, distance or heart rate may have changed, or the activity became a child: regroup it and its group.
        await this.regroup(tx, userId, current.athleteId, [id]);
      });
    } catch (error) {
      throw translateRuleViolation(error);
    }
    return this.get(userId, id);
  }

  /**
   * The update path of a re-ingest (sync, import): replaces the promoted fields and the payload of
   * the user's activity and increments its revision (§6), and replaces statistics and events when
   * given. Runs inside the caller's transaction when one is passed. 404 for anyone else's activity.
   */
  async replacePayload(
    userId: string,
    id: string,
    payload: ActivityPayload & { statistics?: NewStatistic[]; events?: NewEvent[] },
    tx?: Transaction,
  ): Promise<ActivityRow> {
    const { statistics, events, ...values } = payload;
    const work = async (t: Transaction) => {
      const row = await this.activities.replacePayload(t, userId, id, values);
      if (!row) throw notFound();
      if (statistics) await this.activities.replaceStatistics(t, userId, id, statistics);
      if (events) await this.activities.replaceEvents(t, userId, id, events);
      await this.regroup(t, userId, row.athleteId, [id]);
      return row;
    };
    try {
      return await (tx ? work(tx) : this.activities.transaction(work));
    } catch (error) {
      throw translateRuleViolation(error);
    }
  }

  async delete(userId: string, id: string): Promise<void> {
    const current = await this.activities.findById(userId, id);
    if (!current) throw notFound();
    // Stream objects are queued for deletion in the same transaction (activity_streams trigger).
    const deleted = await this.activities.transaction((tx) =>
      this.deleteRegrouping(tx, userId, current.athleteId, async () => [id], () => this.activities.delete(userId, id, tx)),
    );
    if (!deleted) throw notFound();
  }

  /** For other modules (streams, sync): the activity row if the user owns it. */
  async findOwned(userId: string, id: string): Promise<ActivityRow> {
    const row = await this.activities.findById(userId, id);
    if (!row) throw notFound();
    return row;
  }

  /** For importers: the activity already stored under (athlete, source, externalId), if any. */
  findIdByExternalId(userId: string, athleteId: string, source: string, externalId: string): Promise<string | undefined> {
    return this.activities.findIdByExternalId(userId, athleteId, source, externalId);
  }

  private async insertOne(
    tx: Transaction,
    input: ActivityChildCreate & { timeZone: string | null },
    userId: string,
    athleteId: string,
    parentId: string | null,
    receivedAt: Date,
  ): Promise<ActivityRow> {
    const { statistics, events, sourceData, ...fields } = input;
    return this.activities.insert(
      tx,
      userId,
      { ...fields, athleteId, parentId, sourceData: sourceData ?? null, sourceDataReceivedAt: sourceData === undefined ? null : receivedAt },
      statistics ?? [],
      (events ?? []).map(toNewEvent),
    );
  }

  /** A parent must be mine, of the same athlete, and top-level itself (one level only, DATA-MODEL §4). */
  private async assertValidParent(userId: string, parentId: string, athleteId: string, path: string[]): Promise<void> {
    const parent = await this.activities.findById(userId, parentId);
    if (!parent) throw unprocessable(path, 'no such activity');
    if (parent.athleteId !== athleteId) throw unprocessable(path, 'the parent belongs to another athlete');
    if (parent.parentId) throw unprocessable(path, 'the parent is itself a child; sessions have one level only');
  }

  private typeFilter(query: ActivityListQuery): string[] | undefined {
    const fromCategory = query.category ? activityTypes.filter((t) => t.category === query.category).map((t) => t.slug) : undefined;
    if (!query.activityType) return fromCategory;
    return fromCategory ? query.activityType.filter((slug) => fromCategory.includes(slug)) : query.activityType;
  }

  private parseCursor(cursor: string): Keyset {
    const keyset = decodeCursor(cursor);
    if (!keyset) {
      throw malformedRequest([{ path: ['cursor'], message: 'not a cursor returned by this API' }]);
    }
    return keyset;
  }

  /** A duplicate (athlete, source, externalId) is a 409 naming the existing activity (idempotent clients). */
  private async translateWriteError(error: unknown, userId: string, athleteId: string, input: ActivityCreate): Promise<unknown> {
    if (isUniqueViolation(error, EXTERNAL_ID_KEY)) {
      const source = input.source ?? 'manual';
      const candidates = [input, ...(input.children ?? [])].filter((item) => item.externalId);
      for (const candidate of candidates) {
        const existingId = await this.activities.findIdByExternalId(userId, athleteId, candidate.source ?? source, candidate.externalId!);
        if (existingId) {
          return new ORPCError('CONFLICT', {
            message: `An activity with externalId "${candidate.externalId}" from ${candidate.source ?? source} already exists`,
            data: { existingId } satisfies ActivityExistsData,
          });
        }
      }
      return new ORPCError('CONFLICT', { message: 'Two activities in the request share a source and externalId' });
    }
    return translateRuleViolation(error);
  }

  // -------------------------------------------------------------------------------------------
  // Ingest from a provider (sync, issue 11). Runs inside the caller's transaction; the caller has
  // validated everything and holds the per-(athlete, source) lock, so the rows it read stay current.

  /**
   * Upserts each item by (athlete, source, externalId). An item whose payload hash equals the stored
   * one is `unchanged` and costs no write; a changed one replaces the promoted fields, statistics,
   * events and children and bumps `revision` (§6); a new one is inserted with revision 1.
   */
  async upsertFromSource(tx: Transaction, batch: SourceBatch): Promise<SourceItemResult[]> {
    const existing = await this.ingest.findBySourceExternalIds(tx, batch.userId, batch.athleteId, batch.source, batch.items.map((item) => item.externalId));
    const byExternalId = new Map(existing.map((row) => [row.externalId!, row]));
    const results: SourceItemResult[] = [];
    const created: SourceActivity[] = [];
    const changed: { item: SourceActivity; id: string; revision: number }[] = [];
    for (const item of batch.items) {
      const row = byExternalId.get(item.externalId);
      if (!row) created.push(item);
      else if (row.sourceDataHash === item.sourceDataHash) results.push({ index: item.index, id: row.id, outcome: 'unchanged', revision: row.revision });
      else changed.push({ item, id: row.id, revision: row.revision + 1 });
    }
    const row = (item: SourceActivity, fields: SourceActivityFields, parentId: string | null, withSource: boolean, id: string) => {
      const { statistics: _s, events: _e, ...promoted } = fields;
      return {
        id,
        ...promoted,
        athleteId: batch.athleteId,
        parentId,
        source: batch.source,
        externalId: withSource ? item.externalId : null,
        ...(withSource
          ? {
              sourceData: item.sourceData ?? null,
              sourceDataReceivedAt: batch.receivedAt,
              sourceArchiveKey: batch.archiveKey,
              sourceArchiveIndex: item.archiveIndex,
              sourceDataHash: item.storedHash ?? item.sourceDataHash,
            }
          : {}),
      };
    };

    // Ids are chosen here, so children and statistics need no round trip to learn them.
    const insertedIds = new Map(created.map((item) => [item.externalId, randomUUID()]));
    // A batch of new top-level activities (the usual batch) is grouped before it is written, so each
    // copy is inserted with its duplicate_of (DuplicateGroups.placeFresh); anything else is regrouped
    // after the writes, below.
    const placedFirst = this.duplicates.detection && changed.length === 0 && created.every((item) => item.children.length === 0 && !item.parentExternalId);
    const placement = placedFirst
      ? await this.duplicates.placeFresh(
          tx,
          batch.userId,
          batch.athleteId,
          created.map((item) => ({
            id: insertedIds.get(item.externalId)!,
            source: batch.source,
            externalId: item.externalId,
            activityType: item.fields.activityType,
            startTime: item.fields.startTime,
            endTime: item.fields.endTime,
            distanceM: item.fields.distanceM,
            avgHeartRateBpm: item.fields.avgHeartRateBpm,
          })),
        )
      : undefined;
    const createdRows = created.map((item) => {
      const id = insertedIds.get(item.externalId)!;
      return { ...row(item, item.fields, null, true, id), duplicateOf: placement?.duplicateOf.get(id) ?? null };
    });
    // A primary before the copies that point at it (the rows go in chunks, each checked on its own).
    const ofNewPrimary = (r: (typeof createdRows)[number]) => (r.duplicateOf !== null && placement!.duplicateOf.has(r.duplicateOf) ? 1 : 0);
    await this.ingest.insertMany(tx, batch.userId, placement ? createdRows.sort((a, b) => ofNewPrimary(a) - ofNewPrimary(b)) : createdRows);
    for (const item of created) results.push({ index: item.index, id: insertedIds.get(item.externalId)!, outcome: 'created', revision: 1 });
    for (const { item, id, revision } of changed) {
      const { id: _id, ...values } = row(item, item.fields, null, true, id);
      // A new payload replaces what the user edited too: the edits are no longer "since ingest".
      await this.activities.update(tx, batch.userId, id, { ...values, revision, editedFields: [], updatedAt: batch.receivedAt });
      results.push({ index: item.index, id, outcome: 'updated', revision });
    }
    await this.ingest.deleteStatisticsEventsAndChildren(tx, batch.userId, changed.map((c) => c.id));

    // Children (multisport legs) are part of their parent's payload: replaced with it, no external id.
    const written = [...created.map((item) => ({ item, id: insertedIds.get(item.externalId)! })), ...changed.map(({ item, id }) => ({ item, id }))];
    const childRows = written.flatMap(({ item, id }) => item.children.map((child) => ({ child, parentId: id, item, id: randomUUID() })));
    await this.ingest.insertMany(tx, batch.userId, childRows.map(({ item, child, parentId, id }) => row(item, child, parentId, false, id)));
    const all = [...written.map(({ item, id }) => ({ fields: item.fields, id })), ...childRows.map(({ child, id }) => ({ fields: child, id }))];
    await this.ingest.insertStatistics(tx, batch.userId, all.flatMap(({ fields, id }) => fields.statistics.map((s) => ({ ...s, activityId: id }))));
    await this.ingest.insertEvents(tx, batch.userId, all.flatMap(({ fields, id }) => fields.events.map((e) => ({ ...e, activityId: id }))));

    const links = written.filter(({ item }) => item.parentExternalId).map(({ item, id }) => ({ childId: id, parentExternalId: item.parentExternalId! }));
    await this.ingest.linkParentsByExternalId(tx, batch.userId, batch.athleteId, batch.source, links);
    // Unchanged items are not regrouped: a replay costs no detection and cannot undo an override.
    if (placement) await placement.afterInsert();
    else await this.regroup(tx, batch.userId, batch.athleteId, [...written.map(({ id }) => id), ...childRows.map(({ id }) => id)]);
    return results.sort((a, b) => a.index - b.index);
  }

  /**
   * Deletes activities by external id inside the caller's transaction. Their stream objects are
   * queued for deletion in the same transaction (the activity_streams trigger feeds the outbox).
   */
  async deleteFromSource(
    tx: Transaction,
    userId: string,
    athleteId: string,
    source: ActivityRow['source'],
    externalIds: readonly string[],
  ): Promise<{ deleted: { id: string; externalId: string }[] }> {
    const deleted = await this.deleteRegrouping(
      tx,
      userId,
      athleteId,
      async () => (await this.ingest.findBySourceExternalIds(tx, userId, athleteId, source, externalIds)).map((row) => row.id),
      () => this.ingest.deleteBySourceExternalIds(tx, userId, athleteId, source, externalIds),
    );
    return { deleted: deleted.map((r) => ({ id: r.id, externalId: r.externalId! })) };
  }

  /** Marks a source activity's payload as fully stored (its streams too); until then a replay rewrites it. */
  async setSourceDataHash(userId: string, id: string, hash: string): Promise<void> {
    await this.activities.transaction((tx) => this.activities.update(tx, userId, id, { sourceDataHash: hash }));
  }

  /** A transaction on the activities' database, for callers that combine their own writes with ingest. */
  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.activities.transaction(work);
  }
}

/** One activity's own fields in the unified model (units of §9), as a provider mapper produces them. */
export interface SourceActivityFields {
  activityType: string;
  sourceActivityType: string;
  name: string | null;
  notes: string | null;
  startTime: Date;
  endTime: Date;
  timeZone: string | null;
  durationS: number | null;
  movingTimeS: number | null;
  distanceM: number | null;
  activeEnergyKcal: number | null;
  avgHeartRateBpm: number | null;
  maxHeartRateBpm: number | null;
  elevationGainM: number | null;
  elevationLossM: number | null;
  avgSpeedMS: number | null;
  maxSpeedMS: number | null;
  isIndoor: boolean | null;
  deviceName: string | null;
  statistics: NewStatistic[];
  events: NewEvent[];
}

export interface SourceActivity {
  /** Input position, echoed in the result. */
  index: number;
  externalId: string;
  parentExternalId: string | null;
  fields: SourceActivityFields;
  children: SourceActivityFields[];
  /** The provider item as parsed (JSONB). */
  sourceData: unknown;
  /** Compared with the stored hash: equal means unchanged. */
  sourceDataHash: string;
  /** What to store instead, when the payload is not complete yet (its streams are written after the commit). */
  storedHash?: string;
  /** Position of the item in the archived body. */
  archiveIndex: number;
}

export interface SourceBatch {
  /** The athlete's owner: every query of the ingest is scoped by it. */
  userId: string;
  athleteId: string;
  source: ActivityRow['source'];
  receivedAt: Date;
  archiveKey: string;
  items: SourceActivity[];
}

export interface SourceItemResult {
  index: number;
  id: string;
  outcome: 'created' | 'updated' | 'unchanged';
  revision: number;
}

/** The activity's edited fields with these added (each once, sorted). */
const withEdited = (fields: readonly string[]) =>
  sql<string[]>`array(select distinct f from unnest(${activitiesTable.editedFields} || array[${sql.join(
    fields.map((field) => sql`${field}`),
    sql`, `,
  )}]::text[]) as f order by f)`;

const toNewEvent = (event: NonNullable<ActivityUpdate['events']>[number]): NewEvent => ({
  ...event,
  endTime: event.endTime ?? null,
  metadata: event.metadata ?? null,
});

/**
 * The database's refusals as 4xx answers. The service checks the session rules first for a precise
 * message, but the database decides (inside the write, so concurrent requests cannot slip past):
 * the one-level trigger and CHECKs (23514), the composite foreign keys (23503), and a deadlock
 * between two concurrent session changes (40P01, retryable: 409).
 */
function translateRuleViolation(error: unknown): unknown {
  if (error instanceof ORPCError) return error;
  const info = pgError(error);
  if (info?.constraint === 'activities_one_level_sessions') {
    return unprocessable(['parentId'], 'sessions have one level only: a parent must be top-level and a child cannot have children');
  }
  if (info?.code === PG_FOREIGN_KEY_VIOLATION && info.constraint === 'activities_parent_fk') {
    return unprocessable(['parentId'], 'the parent must be an activity of the same athlete');
  }
  if (info?.code === PG_FOREIGN_KEY_VIOLATION && info.constraint === 'activities_athlete_fk') return new ORPCError('NOT_FOUND', { message: 'Athlete not found' });
  if (info?.code === PG_CHECK_VIOLATION) return ruleViolation();
  if (info?.code === PG_DEADLOCK) return new ORPCError('CONFLICT', { message: 'A concurrent change to the same session conflicted; retry' });
  return error;
}

/**
 * The merged view's promoted fields (docs/data-model.md, "Duplicates across sources"): each field
 * `row` lacks (null), from the first of `members` (best first) that has it; fieldSources names it.
 */
function fillFromMembers<T extends ActivitySummaryRow>(row: T, members: readonly { id: string; row: ActivitySummaryRow | undefined }[]) {
  const merged: T = { ...row };
  const fieldSources: Record<string, string> = {};
  for (const field of MERGED_FIELDS) {
    if (merged[field] !== null) continue;
    const from = members.find((member) => member.row && member.row[field] !== null);
    if (!from) continue;
    (merged as Record<string, unknown>)[field] = from.row![field];
    fieldSources[field] = from.id;
  }
  return { row: merged, fieldSources };
}

/** The promoted fields a primary's merged view fills from its members (docs/data-model.md, "Duplicates across sources"). */
const MERGED_FIELDS = [
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
  'timeZone',
] as const satisfies readonly (keyof ActivitySummaryRow)[];

const SUMMED = ['durationS', 'movingTimeS', 'distanceM', 'activeEnergyKcal', 'elevationGainM', 'elevationLossM'] as const;
const MAXED = ['maxHeartRateBpm', 'maxSpeedMS'] as const;

/**
 * §4: a parent's totals "may be stored, or else derived from the children". A parent without its
 * own value of a measure shows the children's: sums of durations, distances, energy and elevation,
 * the maximum of maxima, heart rate averaged over the children's durations, speed as distance over
 * moving time (else duration). Stored values always win; nothing is written back.
 */
export function withDerivedTotals<T extends ActivitySummaryRow>(row: T, children: ActivitySummaryRow[]): T {
  if (row.parentId || children.length === 0) return row;
  const derived: Partial<ActivitySummaryRow> = {};
  const values = (key: keyof ActivitySummaryRow) => children.map((child) => child[key]).filter((value): value is number => typeof value === 'number');
  for (const key of SUMMED) {
    const present = values(key);
    if (row[key] === null && present.length > 0) derived[key] = present.reduce((sum, value) => sum + value, 0);
  }
  for (const key of MAXED) {
    const present = values(key);
    if (row[key] === null && present.length > 0) derived[key] = Math.max(...present);
  }
  if (row.avgHeartRateBpm === null) {
    const weighted = children.filter((child) => child.avgHeartRateBpm !== null && child.durationS !== null && child.durationS > 0);
    const seconds = weighted.reduce((sum, child) => sum + child.durationS!, 0);
    if (seconds > 0) derived.avgHeartRateBpm = weighted.reduce((sum, child) => sum + child.avgHeartRateBpm! * child.durationS!, 0) / seconds;
  }
  if (row.avgSpeedMS === null) {
    const distance = row.distanceM ?? derived.distanceM;
    const time = row.movingTimeS ?? derived.movingTimeS ?? row.durationS ?? derived.durationS;
    if (distance != null && time != null && time > 0) derived.avgSpeedMS = distance / time;
  }
  return { ...row, ...derived };
}
