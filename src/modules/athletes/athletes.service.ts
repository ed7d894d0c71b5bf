import { Injectable } from '@nestjs/common';
import { ORPCError } from '@orpc/server';
import type { Athlete, AthleteCreate, AthleteUpdate } from '../../contract/athletes.contract.js';
import type { AthleteRow } from '../../database/schema/index.js';
import { AthletesRepository } from './athletes.repository.js';

const toAthlete = (row: AthleteRow): Athlete => ({
  id: row.id,
  displayName: row.displayName,
  dateOfBirth: row.dateOfBirth,
  sex: row.sex,
  timeZone: row.timeZone,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

export const athleteNotFound = () => new ORPCError('NOT_FOUND', { message: 'Athlete not found' });

@Injectable()
export class AthletesService {
  constructor(private readonly athletes: AthletesRepository) {}

  async list(userId: string) {
    const rows = await this.athletes.findMany(userId);
    return { items: rows.map(toAthlete), nextCursor: null };
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
  async assertOwned(userId: string, athleteId: string): Promise<void> {
    if (!(await this.athletes.findById(userId, athleteId))) throw athleteNotFound();
  }
}
