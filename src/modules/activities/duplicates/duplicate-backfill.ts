import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { and, asc, eq, gt, or, sql } from 'drizzle-orm';
import { ENV } from '../../../config/config.module.js';
import type { Env } from '../../../config/env.js';
import type { Database } from '../../../database/database.js';
import { InjectDb } from '../../../database/database.module.js';
import { activities, activityDuplicateBackfills, athletes } from '../../../database/schema/index.js';
import { DuplicateGroups } from './duplicate-groups.js';

/** Bumped when detection changes enough that existing databases should be regrouped once more. */
export const DUPLICATE_DETECTION_VERSION = 2;
/** Activities per regroup transaction of a backfill. */
const CHUNK = 500;

/**
 * Groups every duplicate of one athlete's existing activities: its activities in
 * start-time order, CHUNK at a time, each chunk one regroup (its own transaction, under the
 * athlete's lock). Idempotent. The bench (bench:dedup) calls it after ingesting a corpus with
 * detection off; the boot backfill calls it per athlete.
 */
export async function groupDuplicatesOfAthlete(
  db: Database,
  athlete: { userId: string; athleteId: string },
  groups: DuplicateGroups = new DuplicateGroups(db, { DUPLICATE_DETECTION: true } as Env),
  shouldStop: () => boolean = () => false,
): Promise<{ activities: number }> {
  let after: { startTime: Date; id: string } | undefined;
  let seen = 0;
  while (!shouldStop()) {
    const rows = await db
      .select({ id: activities.id, startTime: activities.startTime })
      .from(activities)
      .where(
        and(
          eq(activities.userId, athlete.userId),
          eq(activities.athleteId, athlete.athleteId),
          after ? or(gt(activities.startTime, after.startTime), and(eq(activities.startTime, after.startTime), gt(activities.id, after.id))) : undefined,
        ),
      )
      .orderBy(asc(activities.startTime), asc(activities.id))
      .limit(CHUNK);
    if (rows.length === 0) break;
    await db.transaction((tx) => groups.regroup(tx, athlete.userId, athlete.athleteId, rows.map((row) => row.id)));
    seen += rows.length;
    after = rows.at(-1)!;
    if (rows.length < CHUNK) break;
  }
  return { activities: seen };
}

/**
 * Once per database and detection version, in the background at boot: groups the duplicates that
 * were stored before groups existed (docs/data-model.md, "Duplicates across sources", Backfill).
 * Several replicas may run it at once: every regroup takes the athlete's lock and is idempotent.
 */
@Injectable()
export class DuplicateBackfill implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(DuplicateBackfill.name);
  private running: Promise<void> | undefined;
  private stopping = false;

  constructor(
    @InjectDb() private readonly db: Database,
    private readonly groups: DuplicateGroups,
    @Inject(ENV) private readonly env: Env,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.env.DUPLICATE_DETECTION) return;
    this.running = this.run().catch((error: unknown) => {
      if (!this.stopping) this.logger.warn(`Grouping existing duplicates failed; it runs again at the next boot: ${String(error)}`);
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  /** The backfill itself, once per detection version (public for its test; boot runs it in the background). */
  async run(): Promise<void> {
    const [done] = await this.db
      .select({ version: activityDuplicateBackfills.version })
      .from(activityDuplicateBackfills)
      .where(eq(activityDuplicateBackfills.version, DUPLICATE_DETECTION_VERSION));
    if (done) return;
    // Only athletes with at least two activities can hold a duplicate.
    const candidates = await this.db
      .select({ athleteId: athletes.id, userId: athletes.userId })
      .from(athletes)
      .where(sql`(select count(*) from (select 1 from ${activities} a where a.athlete_id = ${athletes.id} limit 2) two) = 2`);
    let grouped = 0;
    for (const athlete of candidates) {
      if (this.stopping) return;
      grouped += (await groupDuplicatesOfAthlete(this.db, athlete, this.groups, () => this.stopping)).activities;
    }
    if (this.stopping) return;
    await this.db.insert(activityDuplicateBackfills).values({ version: DUPLICATE_DETECTION_VERSION }).onConflictDoNothing();
    if (grouped > 0) this.logger.log(`Grouped the duplicates of ${grouped} existing activities of ${candidates.length} athlete(s)`);
  }
}
