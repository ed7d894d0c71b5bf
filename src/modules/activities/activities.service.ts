import { Injectable } from '@nestjs/common';
import { ORPCError } from '@orpc/server';
import { activityTypes } from '../../../libs/seed-data/activity-types.js';
import type {
  ActivityChildCreate,
  ActivityCreate,
  ActivityDetail,
  ActivityList,
  ActivityListQuery,
  ActivityUpdate,
} from '../../contract/activities.contract.js';
import type { Transaction } from '../../database/database.js';
import { isUniqueViolation, pgError, PG_CHECK_VIOLATION } from '../../database/errors.js';
import type { ActivityRow, NewActivityRow } from '../../database/schema/index.js';
import { AthletesService } from '../athletes/athletes.service.js';
import { ActivityTypesService } from '../catalog/activity-types.service.js';
import { StreamMetadataService } from '../streams/stream-metadata.service.js';
import { toActivityDetail, toActivitySummary } from './activities.mapper.js';
import { ActivitiesRepository, type ActivityFilter, type Keyset } from './activities.repository.js';
import { decodeCursor, encodeCursor } from './cursor.js';

const DEFAULT_PAGE_SIZE = 50;

const notFound = () => new ORPCError('NOT_FOUND', { message: 'Activity not found' });

const unprocessable = (path: (string | number)[], message: string) =>
  new ORPCError('UNPROCESSABLE_CONTENT', { message: 'The request breaks a rule of the data model', data: { issues: [{ path, message }] } });

const EXTERNAL_ID_KEY = 'activities_athlete_source_external_id_key';

@Injectable()
export class ActivitiesService {
  constructor(
    private readonly activities: ActivitiesRepository,
    private readonly athletes: AthletesService,
    private readonly types: ActivityTypesService,
    private readonly streams: StreamMetadataService,
  ) {}

  async get(userId: string, id: string): Promise<ActivityDetail> {
    const row = await this.activities.findById(userId, id);
    if (!row) throw notFound();
    return this.detail(userId, row);
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
    };
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = query.cursor ? this.parseCursor(query.cursor) : undefined;
    const [rows, totals] = await Promise.all([
      this.activities.findPage(filter, after, limit + 1),
      query.includeTotals ? this.activities.totals(filter) : undefined,
    ]);
    // Rows are already scoped to the user's athletes; only an empty page can hide a foreign athleteId.
    if (rows.length === 0 && query.athleteId) await this.athletes.assertOwned(userId, query.athleteId);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(toActivitySummary),
      nextCursor: rows.length > limit && last ? encodeCursor({ startTime: last.startTime, id: last.id }) : null,
      ...(totals ? { totals } : {}),
    };
  }

  async create(userId: string, input: ActivityCreate): Promise<ActivityDetail> {
    const athlete = await this.athletes.get(userId, input.athleteId);
    this.types.assertKnown(input.activityType, ['activityType']);
    input.children?.forEach((child, index) => this.types.assertKnown(child.activityType, ['children', index, 'activityType']));
    if (input.parentId) await this.assertValidParent(userId, input.parentId, athlete.id, ['parentId']);

    const timeZone = input.timeZone ?? athlete.timeZone;
    const receivedAt = new Date();
    try {
      const id = await this.activities.transaction(async (tx) => {
        const parent = await this.insertOne(tx, { ...input, timeZone }, athlete.id, input.parentId ?? null, receivedAt);
        for (const child of input.children ?? []) {
          await this.insertOne(tx, { ...child, timeZone: child.timeZone ?? timeZone }, athlete.id, parent.id, receivedAt);
        }
        return parent.id;
      });
      return await this.get(userId, id);
    } catch (error) {
      throw await this.translateWriteError(error, athlete.id, input);
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
    if (parentId) {
      if (parentId === id) throw unprocessable(['parentId'], 'an activity cannot be its own parent');
      await this.assertValidParent(userId, parentId, current.athleteId, ['parentId']);
      if ((await this.activities.countChildren(id)) > 0) {
        throw unprocessable(['parentId'], 'this activity has children; a child cannot have children of its own');
      }
    }

    await this.activities.transaction(async (tx) => {
      const changes: Partial<NewActivityRow> = { ...fields, ...(parentId !== undefined ? { parentId } : {}) };
      if (Object.keys(changes).length > 0 || statistics || events) {
        await this.activities.update(tx, id, { ...changes, updatedAt: new Date() });
      }
      if (statistics) await this.activities.replaceStatistics(tx, id, statistics);
      if (events) await this.activities.replaceEvents(tx, id, events.map((event) => ({ ...event, endTime: event.endTime ?? null, metadata: event.metadata ?? null })));
    });
    return this.get(userId, id);
  }

  async delete(userId: string, id: string): Promise<void> {
    if (!(await this.activities.findById(userId, id))) throw notFound();
    // Stream objects are queued for deletion in the same transaction (activity_streams trigger).
    if (!(await this.activities.delete(id))) throw notFound();
  }

  /** For other modules (streams, sync): the activity row if the user owns it. */
  async findOwned(userId: string, id: string): Promise<ActivityRow> {
    const row = await this.activities.findById(userId, id);
    if (!row) throw notFound();
    return row;
  }

  private async detail(userId: string, row: ActivityRow): Promise<ActivityDetail> {
    const [statistics, events, children, streams] = await Promise.all([
      this.activities.findStatistics(row.id),
      this.activities.findEvents(row.id),
      row.parentId ? Promise.resolve([]) : this.activities.findChildren(row.id),
      this.streams.listOwned(userId, row.id),
    ]);
    return toActivityDetail({ row, statistics, events, streams, children });
  }

  private async insertOne(
    tx: Transaction,
    input: ActivityChildCreate & { timeZone: string },
    athleteId: string,
    parentId: string | null,
    receivedAt: Date,
  ): Promise<ActivityRow> {
    const { statistics, events, sourceData, ...fields } = input;
    const row = await this.activities.insert(tx, {
      ...fields,
      athleteId,
      parentId,
      sourceData: sourceData ?? null,
      sourceDataReceivedAt: sourceData === undefined ? null : receivedAt,
    });
    await this.activities.replaceStatistics(tx, row.id, statistics ?? [], false);
    await this.activities.replaceEvents(
      tx,
      row.id,
      (events ?? []).map((event) => ({ ...event, endTime: event.endTime ?? null, metadata: event.metadata ?? null })),
      false,
    );
    return row;
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
      throw new ORPCError('BAD_REQUEST', {
        message: 'The request is malformed',
        data: { issues: [{ path: ['cursor'], message: 'not a cursor returned by this API' }] },
      });
    }
    return keyset;
  }

  /** A duplicate (athlete, source, externalId) is a 409 naming the existing activity (idempotent clients). */
  private async translateWriteError(error: unknown, athleteId: string, input: ActivityCreate): Promise<unknown> {
    if (isUniqueViolation(error, EXTERNAL_ID_KEY)) {
      const source = input.source ?? 'manual';
      const candidates = [input, ...(input.children ?? [])].filter((item) => item.externalId);
      for (const candidate of candidates) {
        const existingId = await this.activities.findIdByExternalId(athleteId, candidate.source ?? source, candidate.externalId!);
        if (existingId) {
          return new ORPCError('CONFLICT', {
            message: `An activity with externalId "${candidate.externalId}" from ${candidate.source ?? source} already exists`,
            data: { existingId },
          });
        }
      }
      return new ORPCError('CONFLICT', { message: 'Two activities in the request share a source and externalId' });
    }
    if (pgError(error)?.code === PG_CHECK_VIOLATION) {
      return new ORPCError('UNPROCESSABLE_CONTENT', { message: 'The request breaks a rule of the data model' });
    }
    return error;
  }
}
