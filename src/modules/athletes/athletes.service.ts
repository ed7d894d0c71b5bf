import { Injectable } from '@nestjs/common';
import { ORPCError } from '@orpc/server';
import {
  type Athlete,
  type AthleteCreate,
  type AthleteList,
  type AthleteListQuery,
  type AthleteUpdate,
  type SourcePriorities,
  type SourcePrioritiesUpdate,
} from '@unified-activity/contract';
import type { Reelection } from '../activities/duplicates/duplicate-groups.js';
import { PriorityReelection } from '../activities/duplicates/priority-reelection.js';
import type { PublicColumns } from '../../database/contract-conformance.js';
import type { AthleteRow } from '../../database/schema/index.js';
import { AthletesRepository } from './athletes.repository.js';

/**
 * The public fields of a row, named one by one (the literal is checked against the contract's type:
 * no field missing, none extra; each column's type in src/database/contract-conformance.ts).
 */
const toAthlete = (row: AthleteRow): Athlete => {
  const athlete: PublicColumns<AthleteRow, Athlete> = {
    id: row.id,
    displayName: row.displayName,
    dateOfBirth: row.dateOfBirth,
    sex: row.sex,
    timeZone: row.timeZone,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
  return athlete;
};

const DEFAULT_PAGE_SIZE = 50;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The athlete id a cursor names; null when it is not one this list handed out. */
function decodeAthleteCursor(cursor: string): string | null {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  return UUID.test(id) ? id : null;
}

export const athleteNotFound = () => new ORPCError('NOT_FOUND', { message: 'Athlete not found' });

@Injectable()
export class AthletesService {
  constructor(
    private readonly athletes: AthletesRepository,
    private readonly reelection: PriorityReelection,
  ) {}

  /** A page of the user's athletes; the cursor is the opaque id of the last athlete of the previous page. */
  async list(userId: string, query: AthleteListQuery = {}): Promise<AthleteList> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const afterId = query.cursor === undefined ? undefined : decodeAthleteCursor(query.cursor);
    if (afterId === null) throw new ORPCError('BAD_REQUEST', { message: 'cursor is not a nextCursor of this list' });
    if (afterId !== undefined && !(await this.athletes.findById(userId, afterId))) {
      throw new ORPCError('BAD_REQUEST', { message: 'cursor is not a nextCursor of this list (its athlete is gone)' });
    }
    const rows = await this.athletes.findPage(userId, afterId, limit + 1);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { items: page.map(toAthlete), nextCursor: rows.length > limit && last ? Buffer.from(last.id, 'utf8').toString('base64url') : null };
  }

  async get(userId: string, id: string): Promise<Athlete> {
    const row = await this.athletes.findById(userId, id);
    if (!row) throw athleteNotFound();
    return toAthlete(row);
  }

  async create(userId: string, input: AthleteCreate): Promise<Athlete> {
    return toAthlete(await this.athletes.insert({ userId, ...input }));
  }

  async update(userId: string, { id, ...changes }: AthleteUpdate): Promise<Athlete> {
    const row =
      Object.keys(changes).length === 0
        ? await this.athletes.findById(userId, id)
        : await this.athletes.update(userId, id, changes);
    if (!row) throw athleteNotFound();
    return toAthlete(row);
  }

  async delete(userId: string, id: string): Promise<void> {
    // Stream objects are queued for deletion in the same transaction (activity_streams trigger).
    if (!(await this.athletes.delete(userId, id))) throw athleteNotFound();
  }

  /** Throws NOT_FOUND unless the athlete exists and belongs to the user (DATA-MODEL §2). */
  /**
   * The athlete's source priority (docs/data-model.md, "Duplicates across sources"); the documented
   * default when none was set. `reelection` follows the last change's re-election (pending while its job runs).
   */
  async getSourcePriorities(userId: string, id: string): Promise<Required<SourcePriorities> & { reelection: Reelection | null }> {
    await this.assertOwned(userId, id);
    return this.reelection.groups.prioritiesView(id);
  }

  /**
   * Stores the priority and re-elects the primaries of the athlete's groups (pinned primaries stay):
   * inline up to DUPLICATE_REELECTION_INLINE_MAX groups (changedPrimaries), else by a job (null).
   */
  async putSourcePriorities(userId: string, input: SourcePrioritiesUpdate): Promise<Required<SourcePriorities> & { changedPrimaries: number | null; reelection: Reelection | null }> {
    const { id, ...priorities } = input;
    await this.assertOwned(userId, id);
    const stored = { default: priorities.default, byCategory: priorities.byCategory ?? {} };
    const { changedPrimaries } = await this.reelection.set(userId, id, stored);
    const { reelection } = await this.reelection.groups.prioritiesView(id);
    return { ...stored, changedPrimaries, reelection };
  }

  async assertOwned(userId: string, athleteId: string): Promise<void> {
    if (!(await this.athletes.findById(userId, athleteId))) throw athleteNotFound();
  }
}
