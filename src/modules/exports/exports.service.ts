import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ORPCError } from '@orpc/server';
import { EXPORT_FORMAT_VERSION, EXPORT_RETENTION_DAYS, type ExportJob } from '@unified-activity/contract';
import type { ExportCounts, ExportJobRow } from '../../database/schema/index.js';
import { ActivitiesService } from '../activities/activities.service.js';
import { AthletesService } from '../athletes/athletes.service.js';
import { ImportQueue } from '../imports/import-queue.js';
import { OriginalsService } from '../originals/originals.service.js';
import type { ObjectStore } from '../streams/storage/object-store.js';
import { ObjectNotFoundError } from '../streams/storage/object-store.js';
import { OBJECT_STORE, StreamsService } from '../streams/streams.service.js';
import { ExportZipWriter, manifestChunks } from './export-zip.js';
import { ExportsRepository } from './exports.repository.js';
import { gpxChunks, type PositionColumns, type ValueColumns } from './gpx.js';

/** The pg-boss queue kind of exports (on the imports' pg-boss, ImportQueue.workOn). */
const EXPORT_JOBS = 'athlete-exports';
const DAY_MS = 24 * 3600 * 1000;
/** Presigned download URLs live this long. */
const DOWNLOAD_URL_SECONDS = 600;
/** How often expired exports are looked for. */
const EXPIRY_SWEEP_MS = 3600 * 1000;
const PAGE = 200;

export const exportObjectKey = (athleteId: string, jobId: string) => `exports/athlete_id=${athleteId}/${jobId}.zip`;

const notFound = () => new ORPCError('NOT_FOUND', { message: 'Export not found' });

/**
 * An athlete's data taken out in one zip (README "Your originals, reprocessing and export"): a job
 * (pg-boss) writes the zip to a temporary file in constant memory (export-zip.ts), stores it in
 * object storage and keeps it EXPORT_RETENTION_DAYS days.
 */
@Injectable()
export class ExportsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Exports');
  private retry: NodeJS.Timeout | undefined;
  private sweep: NodeJS.Timeout | undefined;

  constructor(
    private readonly jobs: ExportsRepository,
    private readonly queue: ImportQueue,
    private readonly athletes: AthletesService,
    private readonly activities: ActivitiesService,
    private readonly streams: StreamsService,
    private readonly originals: OriginalsService,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
  ) {}

  /** The worker starts in the background: the server boots (and answers 503) while the database is unreachable. */
  onApplicationBootstrap(): void {
    void this.startWorker();
    this.sweep = setInterval(() => void this.removeExpired().catch((error: unknown) => this.logger.warn(`Expired exports not removed: ${String(error)}`)), EXPIRY_SWEEP_MS);
    this.sweep.unref();
  }

  onModuleDestroy(): void {
    if (this.retry) clearTimeout(this.retry);
    if (this.sweep) clearInterval(this.sweep);
  }

  private async startWorker(): Promise<void> {
    try {
      await this.queue.workOn(EXPORT_JOBS, (id) => this.runJob(id));
    } catch (error) {
      this.logger.warn(`Export jobs not started yet (retrying in 5 s): ${error instanceof Error ? error.message : String(error)}`);
      this.retry = setTimeout(() => void this.startWorker(), 5_000);
      this.retry.unref();
    }
  }

  async create(userId: string, athleteId: string): Promise<ExportJob> {
    await this.athletes.assertOwned(userId, athleteId);
    const row = await this.jobs.insert({ id: randomUUID(), athleteId, userId });
    await this.queue.sendTo(EXPORT_JOBS, row.id);
    return toJob(row);
  }

  async getJob(userId: string, jobId: string): Promise<ExportJob> {
    return toJob(await this.owned(userId, jobId));
  }

  async download(userId: string, jobId: string) {
    const job = await this.owned(userId, jobId);
    if (job.status !== 'completed') throw new ORPCError('CONFLICT', { message: `The export is not ready (${job.status})` });
    if (!job.objectKey) throw new ORPCError('NOT_FOUND', { message: `The export expired (exports are kept ${EXPORT_RETENTION_DAYS} days)` });
    const filename = `export-${job.athleteId}-${job.finishedAt!.toISOString().slice(0, 10)}.zip`;
    const url = await this.store.presignedGetUrl(job.objectKey, DOWNLOAD_URL_SECONDS);
    if (url) return { status: 307 as const, headers: { location: url } };
    let blob: Blob | undefined;
    try {
      blob = await this.store.openBlob(job.objectKey);
    } catch (error) {
      if (error instanceof ObjectNotFoundError) throw new ORPCError('NOT_FOUND', { message: 'The export is missing from object storage' });
      throw error;
    }
    if (!blob) throw new ORPCError('SERVICE_UNAVAILABLE', { message: 'The export cannot be read from object storage' });
    return {
      status: 200 as const,
      headers: { 'content-disposition': `attachment; filename="${filename}"` },
      body: new File([blob], filename, { type: 'application/zip' }),
    };
  }

  private async owned(userId: string, jobId: string): Promise<ExportJobRow> {
    const row = await this.jobs.findById(jobId);
    if (!row || row.userId !== userId) throw notFound();
    return row;
  }

  /** Writes (or, after a crash, writes again) one export; throwing hands it back to pg-boss for a retry. */
  async runJob(jobId: string): Promise<void> {
    const job = await this.jobs.findById(jobId);
    if (!job || job.status === 'completed') return;
    await this.jobs.update(jobId, { status: 'running', startedAt: new Date(), error: null });
    const path = join(tmpdir(), `export-${jobId}-${process.pid}.zip`);
    try {
      const counts = await this.writeZip(job, path);
      const key = exportObjectKey(job.athleteId, jobId);
      const byteSize = (await stat(path)).size;
      const sha256 = await fileSha256(path);
      await this.store.putFile(key, path, { contentType: 'application/zip' });
      const finishedAt = new Date();
      await this.jobs.update(jobId, { status: 'completed', objectKey: key, byteSize, sha256, counts, finishedAt, expiresAt: new Date(finishedAt.getTime() + EXPORT_RETENTION_DAYS * DAY_MS) });
    } catch (error) {
      this.logger.error(`Export ${jobId} failed: ${String(error)}`);
      await this.jobs.update(jobId, { status: 'failed', error: 'The export stopped on a server error; it is retried automatically' });
      throw error;
    } finally {
      await rm(path, { force: true });
    }
  }

  /** The zip: activities.ndjson, streams/, gpx/, originals/, then manifest.json with every entry's SHA-256. */
  async writeZip(job: Pick<ExportJobRow, 'userId' | 'athleteId'>, path: string): Promise<ExportCounts> {
    const { userId, athleteId } = job;
    const athlete = await this.athletes.get(userId, athleteId);
    const exportedAt = new Date();
    const zip = new ExportZipWriter(path, exportedAt);
    const counts: ExportCounts = { activities: 0, streams: 0, originals: 0, gpx: 0 };
    const streamsListed: { activityId: string; streamType: string; path: string; checksumSha256: string }[] = [];
    const originalsListed: Record<string, unknown>[] = [];
    try {
      // Every activity (children and every duplicate too), in timeline order; ids kept for the second pass (a few MB at most).
      const ids: string[] = [];
      const activities = this.activities;
      async function* lines() {
        let cursor: string | undefined;
        do {
          const page = await activities.list(userId, { athleteId, includeDuplicates: true, topLevelOnly: false, limit: PAGE, ...(cursor ? { cursor } : {}) });
          for (const item of page.items) {
            const detail = await activities.get(userId, item.id);
            ids.push(item.id);
            counts.activities++;
            yield `${JSON.stringify(detail)}\n`;
          }
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
      }
      await zip.addChunks('activities.ndjson', lines(), true);

      for (const activityId of ids) {
        let position = false;
        const present = new Set<string>();
        for await (const object of this.streams.currentObjects(userId, activityId)) {
          // Parquet is compressed already: stored as is.
          await zip.addBytes(object.key, object.bytes, false);
          streamsListed.push({ activityId, streamType: object.type, path: object.key, checksumSha256: object.checksumSha256 });
          counts.streams++;
          present.add(object.type);
          if (object.type === 'position') position = true;
        }
        if (position) {
          await zip.addChunks(`gpx/${activityId}.gpx`, await this.gpx(userId, activityId, present), true);
          counts.gpx++;
        }
      }

      for await (const { original, extension, bytes } of this.originals.everyOriginal(athleteId)) {
        const entry = `originals/${original.sha256}.${extension}`;
        await zip.addBytes(entry, bytes, true);
        originalsListed.push({ path: entry, ...original });
        counts.originals++;
      }

      // Written a line per listed item: for 10,000 activities the whole document is ~20 MB of text,
      // which one JSON.stringify would hold (twice, with its bytes) at the end of the export.
      const manifest = { formatVersion: EXPORT_FORMAT_VERSION, exportedAt, athlete, counts };
      const lists = { entries: zip.entries, streams: streamsListed, originals: originalsListed };
      await zip.addChunks('manifest.json', manifestChunks(manifest, lists), true);
      await zip.finish();
      return counts;
    } catch (error) {
      zip.destroy();
      throw error;
    }
  }

  /** One activity's track as a GPX file (what the export writes as gpx/<activityId>.gpx); 404 without a position stream. */
  async activityGpx(userId: string, activityId: string) {
    // Someone else's activity answers 404 here, as a missing one does.
    const { items } = await this.streams.list(userId, activityId);
    const present = new Set<string>(items.map((stream) => stream.streamType));
    if (!present.has('position')) throw new ORPCError('NOT_FOUND', { message: 'This activity has no position stream to write a track from' });
    const filename = `${activityId}.gpx`;
    const text = [...(await this.gpx(userId, activityId, present))].join('');
    return { headers: { 'content-disposition': `attachment; filename="${filename}"` }, body: new File([text], filename, { type: 'application/gpx+xml' }) };
  }

  /** The activity's track as GPX text chunks (position, with heart rate and cadence where sampled at the same instants). */
  private async gpx(userId: string, activityId: string, present: Set<string>) {
    const activity = await this.activities.findOwned(userId, activityId);
    const position = (await this.streams.samples(userId, activityId, 'position')) as unknown as PositionColumns;
    const values = async (type: 'heart_rate' | 'cadence') => (present.has(type) ? ((await this.streams.samples(userId, activityId, type)) as unknown as ValueColumns) : undefined);
    return gpxChunks({ id: activityId, name: activity.name, activityType: activity.activityType, startTime: activity.startTime }, position, await values('heart_rate'), await values('cadence'));
  }

  /**
   * Removes the zips whose time is up (the job rows stay, answering 404 at download), and the zips
   * whose job row is gone (its athlete was deleted: the row went with it, the object did not).
   */
  async removeExpired(now = new Date()): Promise<number> {
    let removed = 0;
    for (;;) {
      const expired = await this.jobs.findExpired(now, 100);
      if (expired.length === 0) break;
      await this.store.delete(expired.map((row) => row.objectKey!));
      for (const row of expired) await this.jobs.update(row.id, { objectKey: null });
      removed += expired.length;
    }
    for await (const object of this.store.list('exports/')) {
      const jobId = /\/([0-9a-f-]{36})\.zip$/.exec(object.key)?.[1];
      // The row exists from the request on, before the zip is written: no row means no job.
      if (jobId && !(await this.jobs.findById(jobId))) {
        await this.store.delete([object.key]);
        removed++;
      }
    }
    return removed;
  }
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function toJob(row: ExportJobRow): ExportJob {
  return {
    id: row.id,
    athleteId: row.athleteId,
    status: row.status,
    byteSize: row.byteSize,
    sha256: row.sha256,
    counts: row.counts ?? null,
    error: row.error,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    expiresAt: row.expiresAt,
  };
}
