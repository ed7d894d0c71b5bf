import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ORPCError } from '@orpc/server';
import { ActivityCreateSchema, type ActivityCreate } from '@unified-activity/contract';
import {
  IMPORT_ASYNC_BYTES,
  IMPORT_ASYNC_FILES,
  type ImportFileResult,
  type ImportJob,
  type ImportResult,
  type ImportSummary,
} from '@unified-activity/contract';
import { ENV } from '../../config/config.module.js';
import type { Env } from '../../config/env.js';
import type { ImportJobRow } from '../../database/schema/index.js';
import { ActivitiesService } from '../activities/activities.service.js';
import { AthletesService } from '../athletes/athletes.service.js';
import { isObjectStorageUnavailable, malformedRequest, objectStorageUnavailable } from '../api/errors.js';
import { ObjectNotFoundError } from '../streams/storage/object-store.js';
import { SampleValidationError, TooManySamplesError } from '../streams/stream-samples.js';
import type { StreamSamples, StreamType } from '../streams/stream-types.js';
import { StreamsService, type StreamActivity } from '../streams/streams.service.js';
import { ArchivedBodyError, archivedItem } from '../sync/archived-item.js';
import { ExportRestore, looksLikeExport } from './export-restore.js';
import { ImportQueue } from './import-queue.js';
import { MAPPING_TWEAKS, type MappingTweaks } from './mapping-tweaks.js';
import { ImportsRepository } from './imports.repository.js';
import { mediaTypeOf, OriginalArchive, originalExtension, originalKey, sha256Hex, stagedUploadKey } from './original-archive.js';
import { OriginalsService } from '../originals/originals.service.js';
import { ParsePool } from './parse-pool.js';
import { parseAppleHealthExport } from './parsers/index.js';
import { UnreadableFileError, type ImportedActivity, type ParseResult } from './parsers/types.js';
import type { PreparedStreams } from './prepare-streams.js';
import type { PreparedUpload } from '../streams/stream-tasks.js';
import { unpack, type ImportInput, type Leaf } from './unpack.js';

/** Who the files are imported for. The CLI resolves the athlete's user; the API has it from the session. */
export interface ImportOwner {
  userId: string;
  athleteId: string;
}

/** A file derived with today's parsers (ImportsService.deriveFile). */
export type DerivedFile =
  | { ok: true; format: ParseResult['format']; activities: ImportedActivity[]; inputs: ActivityCreate[]; prepared: PreparedStreams; warnings: string[] }
  | { ok: false; format: ParseResult['format'] | null; reason: string; warnings: string[] };

/** Stored per-file results carry the index of the upload they came from, so a resumed job can drop a half-done file's. */
type StoredResult = ImportFileResult & { upload: number };

const MAX_WARNINGS_PER_FILE = 200;

/** The activity columns that record where the activity's original lives (DATA-MODEL §6). */
type WithArchive<T> = T & { sourceArchiveKey: string; sourceArchiveIndex: number };

export function summarise(files: readonly ImportFileResult[]): ImportSummary {
  return {
    created: files.filter((f) => f.status === 'created').length,
    skipped: files.filter((f) => f.status === 'skipped').length,
    rejected: files.filter((f) => f.status === 'rejected').length,
    activities: files.reduce((n, f) => n + f.activityIds.length, 0),
    samples: files.reduce((n, f) => n + f.sampleCount, 0),
  };
}

const emptyResult = (fileName: string): ImportFileResult => ({
  fileName,
  status: 'rejected',
  format: null,
  sha256: null,
  activityIds: [],
  existingIds: [],
  reason: null,
  warnings: [],
  sampleCount: 0,
});

const rejected = (fileName: string, reason: string, extra: Partial<ImportFileResult> = {}): ImportFileResult => ({
  ...emptyResult(fileName),
  ...extra,
  status: 'rejected',
  reason,
});

/**
 * File imports (issue 12): unpack → parse (worker threads) → keep the original → create the
 * activities through the activities service → store their streams through the streams service.
 * The file's SHA-256 is its external id under source `file`, so the same bytes never import twice.
 */
@Injectable()
export class ImportsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Imports');
  /**
   * One thread per import job this process runs at once (IMPORT_WORKERS) and one for the uploads
   * imported in their request, at most the CPUs: the API process shares its CPU with requests.
   */
  private readonly pool: ParsePool;

  constructor(
    @Inject(ENV) env: Env,
    private readonly activities: ActivitiesService,
    private readonly athletes: AthletesService,
    private readonly streams: StreamsService,
    private readonly archive: OriginalArchive,
    private readonly jobs: ImportsRepository,
    private readonly queue: ImportQueue,
    private readonly originals: OriginalsService,
    private readonly exportRestore: ExportRestore,
    @Inject(MAPPING_TWEAKS) private readonly tweaks: MappingTweaks,
  ) {
    this.pool = new ParsePool({
      threads: Math.max(1, Math.min(availableParallelism(), env.IMPORT_WORKERS + 1)),
      heapMb: env.PARSE_THREAD_HEAP_MB || undefined,
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.startWorker();
  }

  /** The database may be unreachable at boot: requests answer 503 meanwhile, and the worker starts once it is back. */
  private async startWorker(): Promise<void> {
    try {
      await this.queue.work((id) => this.runJob(id));
    } catch (error) {
      this.logger.warn(`Import jobs not started yet (retrying in 5 s): ${error instanceof Error ? error.message : String(error)}`);
      this.workerRetry = setTimeout(() => void this.startWorker(), 5_000);
      this.workerRetry.unref();
    }
  }

  private workerRetry: NodeJS.Timeout | undefined;

  async onModuleDestroy(): Promise<void> {
    if (this.workerRetry) clearTimeout(this.workerRetry);
    // Nest destroys modules before it shuts the database down: the running job finishes its file first.
    await this.queue.stop();
    await this.pool.close();
  }

  /** POST /athletes/{id}/imports: small uploads are imported in the request, large ones become a job. */
  async importUpload(userId: string, athleteId: string, files: File[] | undefined, forceAsync = false) {
    await this.athletes.assertOwned(userId, athleteId);
    if (!files || files.length === 0) {
      throw malformedRequest([{ path: ['files'], message: 'send at least one file as multipart/form-data field "files"' }]);
    }
    const owner = { userId, athleteId };
    const totalBytes = files.reduce((n, file) => n + file.size, 0);
    if (forceAsync || totalBytes > IMPORT_ASYNC_BYTES || files.length > IMPORT_ASYNC_FILES) {
      return { status: 202 as const, body: await this.enqueue(owner, files) };
    }
    const results: ImportFileResult[] = [];
    for (const file of files) {
      const input = { name: file.name || 'upload', bytes: new Uint8Array(await file.arrayBuffer()) };
      try {
        for await (const result of this.importInput(owner, input)) results.push(result);
      } catch (error) {
        if (!isObjectStorageUnavailable(error)) throw error;
        const done = results.length === 0 ? '' : `; the ${results.length} file(s) before it were imported and are skipped when the request is sent again`;
        throw objectStorageUnavailable(`${JSON.stringify(input.name)} was not imported${done}`);
      }
    }
    const body: ImportResult = { status: 'completed', summary: summarise(results), files: results };
    return { status: 200 as const, body };
  }

  async getJob(userId: string, jobId: string): Promise<ImportJob> {
    const row = await this.jobs.findJob(jobId);
    if (!row || row.userId !== userId) throw new ORPCError('NOT_FOUND', { message: 'Import job not found' });
    return toJob(row);
  }

  /**
   * GET /activities/{id}/original: the archived bytes the activity came from: the imported file, or
   * for a synced activity its provider item, cut out of the archived batch body (exact bytes).
   * `x-archive-key` names the archived object either way.
   */
  async original(userId: string, activityId: string) {
    const activity = await this.activities.findOwned(userId, activityId);
    const key = activity.sourceArchiveKey;
    if (!key || (activity.source !== 'file' && activity.sourceArchiveIndex === null)) {
      throw new ORPCError('NOT_FOUND', { message: 'This activity has no archived original (entered by hand, or stored as part of its parent’s item)' });
    }
    let bytes: Uint8Array;
    try {
      bytes = await this.archive.get(key);
    } catch (error) {
      if (error instanceof ObjectNotFoundError) throw new ORPCError('NOT_FOUND', { message: 'The original is missing from object storage' });
      throw error;
    }
    if (activity.source !== 'file') {
      const item = this.syncedItem(bytes, activity.sourceArchiveIndex!, key);
      const filename = `${activityId}.json`;
      return {
        headers: { 'content-disposition': `attachment; filename="${filename}"`, 'x-archive-key': key },
        body: new File([item as Uint8Array<ArrayBuffer>], filename, { type: 'application/json' }),
      };
    }
    const filename = `${activityId}${originalExtension(key)}`;
    return {
      headers: { 'content-disposition': `attachment; filename="${filename}"`, 'x-archive-key': key },
      body: new File([bytes as Uint8Array<ArrayBuffer>], filename, { type: mediaTypeOf(key) }),
    };
  }

  /** The item's bytes inside the archived batch body; a body that does not hold it is a bug (logged), answered 404. */
  private syncedItem(body: Uint8Array, ordinal: number, key: string): Uint8Array {
    let item: Uint8Array | undefined;
    try {
      item = archivedItem(body, ordinal);
    } catch (error) {
      if (!(error instanceof ArchivedBodyError)) throw error;
      this.logger.error(`Archived body ${key} cannot be read: ${error.message}`);
    }
    if (!item) {
      this.logger.error(`Archived body ${key} has no item ${ordinal}`);
      throw new ORPCError('NOT_FOUND', { message: 'The provider item is missing from its archived batch' });
    }
    return item;
  }

  /** Every file of one input (a file, a gzip, an archive or a folder), one result each; an export zip of this API is one result. */
  async *importInput(owner: ImportOwner, input: ImportInput, pool: ParsePool = this.pool): AsyncGenerator<ImportFileResult> {
    if ('bytes' in input && looksLikeExport(input.bytes)) {
      yield await this.exportRestore.restore(owner, input.name, input.bytes);
      return;
    }
    for await (const leaf of unpack(input)) yield await this.importLeaf(owner, leaf, pool);
  }

  /** One unpacked file. A bad file is a rejected result, never an exception; a storage outage is rethrown. */
  async importLeaf(owner: ImportOwner, leaf: Leaf, pool: ParsePool = this.pool): Promise<ImportFileResult> {
    if (leaf.kind === 'rejected') return rejected(leaf.name, leaf.reason);
    if (leaf.kind === 'apple_health') {
      try {
        return await this.importAppleHealth(owner, leaf);
      } finally {
        leaf.release();
      }
    }

    const { name, bytes } = leaf;
    if (bytes.byteLength === 0) return rejected(name, 'the file is empty');
    const sha256 = sha256Hex(bytes);
    const existing = await this.activities.findIdByExternalId(owner.userId, owner.athleteId, 'file', sha256);
    if (existing) return { ...emptyResult(name), status: 'skipped', sha256, existingIds: [existing] };

    // A rejected file is archived and listed too (GET /athletes/{id}/originals?status=rejected): a later parser may read it.
    const refuse = async (reason: string, extra: Partial<ImportFileResult> = {}) => {
      await this.keepRejected(owner, name, bytes, sha256, extra.format ?? null, reason);
      return rejected(name, reason, { sha256, ...extra });
    };
    const derived = await this.deriveFile(owner, name, bytes, sha256, pool);
    if (!derived.ok) return refuse(derived.reason, derived.format === null ? {} : { format: derived.format, warnings: derived.warnings });
    const { format, activities, inputs, prepared, warnings } = derived;
    const result: ImportFileResult = { ...emptyResult(name), status: 'created', format, sha256, warnings: [...warnings] };
    const archiveKey = originalKey(owner.athleteId, sha256, format);
    try {
      const storedByteSize = await this.keepOriginal(archiveKey, bytes);
      // The first activity carries the bare hash: it is created last, so a file whose import was
      // interrupted is not mistaken for a finished one on the next run.
      const order = activities.map((activity, index) => ({ activity, index })).reverse();
      let archiveIndex = activities.reduce((n, a) => n + 1 + a.children.length, 0);
      for (const { activity, index } of order) {
        archiveIndex -= 1 + activity.children.length;
        const ownPrepared = prepared.slice(archiveIndex, archiveIndex + 1 + activity.children.length);
        const stored = await this.persist(owner, activity, inputs[index]!, archiveKey, archiveIndex, result.warnings, ownPrepared);
        if (stored.created) result.activityIds.unshift(stored.id);
        else result.existingIds.unshift(stored.id);
        result.sampleCount += stored.samples;
      }
      await this.listOriginal({ athleteId: owner.athleteId, sha256, source: 'file', objectKey: archiveKey, fileName: name, format, byteSize: bytes.byteLength, storedByteSize, status: 'imported' });
    } catch (error) {
      await this.reclaimOriginal(archiveKey);
      throw error;
    }
    if (result.activityIds.length === 0) result.status = 'skipped';
    result.warnings = capWarnings(result.warnings);
    return result;
  }

  /**
   * What a file's bytes derive to with today's parsers (and the mapping tweaks, MappingTweaks):
   * its activities checked against the create schema, with their streams prepared, or why it is
   * rejected. Writes nothing: the import and the reprocess (README "Reprocess") share it.
   */
  async deriveFile(owner: ImportOwner, name: string, bytes: Uint8Array, sha256: string, pool: ParsePool = this.pool): Promise<DerivedFile> {
    const outcome = await pool.parse(bytes, name);
    // A decoder failing on intact bytes is our bug, not the athlete's file: logged at error level.
    const decoderErrors = 'rejected' in outcome ? (outcome.decoderError ? [outcome.decoderError] : []) : (outcome.result.decoderErrors ?? []);
    for (const failure of decoderErrors) this.logger.error(`${name} (sha256 ${sha256}): ${failure}`);
    if ('rejected' in outcome) return { ok: false, format: null, reason: outcome.rejected, warnings: [] };
    const { format, activities, warnings } = outcome.result;
    let { prepared } = outcome;
    if (activities.length === 0) return { ok: false, format, reason: 'the file holds no activity', warnings };
    try {
      const tweak = this.tweaks.file;
      if (tweak) {
        for (const activity of activities) {
          for (const one of [activity, ...activity.children]) {
            tweak(one, { name, format });
            ownRealmSamples(one);
          }
        }
        // The tweak may have changed samples: prepared again here (tests only; no tweak in production).
        const { prepareStreams } = await import('./prepare-streams.js');
        prepared = await prepareStreams(activities);
      }
      return { ok: true, format, activities, inputs: this.checkActivities(owner, activities, sha256), prepared, warnings };
    } catch (error) {
      if (error instanceof UnreadableFileError) return { ok: false, format, reason: error.reason, warnings };
      throw error;
    }
  }

  private async importAppleHealth(owner: ImportOwner, leaf: Extract<Leaf, { kind: 'apple_health' }>): Promise<ImportFileResult> {
    const result: ImportFileResult = { ...emptyResult(leaf.name), status: 'created', format: 'apple_health' };
    let workouts = 0;
    try {
      for await (const workout of parseAppleHealthExport(leaf.xml, leaf.routes)) {
        workouts++;
        // Exports carry no workout ids: the workout's own attributes name it (its identity), so the
        // same workout exported with an inline route or a route file is one activity. The parsed
        // workout is archived as JSON under its content hash.
        const original = new TextEncoder().encode(JSON.stringify(workout.sourceData));
        const sha256 = sha256Hex(original);
        const externalId = workout.identity ? sha256Hex(new TextEncoder().encode(JSON.stringify(workout.identity))) : sha256;
        // Imports before identities were named by the archived JSON's hash.
        const existing =
          (await this.activities.findIdByExternalId(owner.userId, owner.athleteId, 'file', externalId)) ??
          (externalId !== sha256 ? await this.activities.findIdByExternalId(owner.userId, owner.athleteId, 'file', sha256) : undefined);
        if (existing) {
          result.existingIds.push(existing);
          continue;
        }
        let input: ActivityCreate;
        try {
          [input] = this.checkActivities(owner, [workout], externalId) as [ActivityCreate];
        } catch (error) {
          if (!(error instanceof UnreadableFileError)) throw error;
          result.warnings.push(`workout ${workouts} (${workout.startTime.toISOString()}) skipped: ${error.reason}`);
          continue;
        }
        // What the parser skipped for this workout (a missing route, another device's samples).
        for (const warning of workout.warnings ?? []) result.warnings.push(`workout ${workouts} (${workout.startTime.toISOString()}): ${warning}`);
        const key = originalKey(owner.athleteId, sha256, 'json');
        let stored;
        try {
          const storedByteSize = await this.keepOriginal(key, original);
          stored = await this.persist(owner, workout, input, key, 0, result.warnings);
          await this.listOriginal({
            athleteId: owner.athleteId,
            sha256,
            source: 'file',
            objectKey: key,
            fileName: `${leaf.name}#workout-${workouts}`,
            format: 'apple_health',
            byteSize: original.byteLength,
            storedByteSize,
            status: 'imported',
          });
        } catch (error) {
          await this.reclaimOriginal(key);
          throw error;
        }
        (stored.created ? result.activityIds : result.existingIds).push(stored.id);
        result.sampleCount += stored.samples;
      }
    } catch (error) {
      if (!(error instanceof UnreadableFileError)) throw error;
      if (workouts === 0) return rejected(leaf.name, error.reason, { format: 'apple_health' });
      result.warnings.push(`the export stops being readable after workout ${workouts}: ${error.reason}`);
    }
    if (workouts === 0) return rejected(leaf.name, 'the export holds no workouts', { format: 'apple_health', warnings: result.warnings });
    if (result.activityIds.length === 0) result.status = 'skipped';
    result.warnings = capWarnings(result.warnings);
    return result;
  }

  /**
   * Archives a file's exact bytes under their key, withdrawing a removal still queued for it by an
   * earlier failed import; answers the bytes the object takes in storage.
   */
  private async keepOriginal(key: string, bytes: Uint8Array): Promise<number> {
    await this.jobs.withdrawOriginalDeletion(key);
    return this.archive.keep(key, bytes);
  }

  /**
   * Lists an archived original; when an import moved a once-rejected original to its format's key,
   * the object under the old key is queued for removal (the drain keeps it if anything points at it).
   */
  private async listOriginal(record: Parameters<OriginalsService['record']>[0]): Promise<void> {
    const previousKey = await this.originals.record(record);
    if (previousKey) await this.jobs.enqueueObjectDeletion(previousKey);
  }

  /**
   * A rejected file: its bytes archived (under the extension its name gives, else `bin`) and listed
   * with the reason, so nothing the athlete sent is lost and a later parser can read it (reprocess).
   */
  private async keepRejected(owner: ImportOwner, name: string, bytes: Uint8Array, sha256: string, format: string | null, reason: string): Promise<void> {
    const extension = format && format !== 'apple_health' ? format : rejectedExtension(name);
    const key = originalKey(owner.athleteId, sha256, extension);
    const storedByteSize = await this.keepOriginal(key, bytes);
    await this.listOriginal({ athleteId: owner.athleteId, sha256, source: 'file', objectKey: key, fileName: name, format, byteSize: bytes.byteLength, storedByteSize, status: 'rejected', reason });
  }

  /**
   * After a failed import: an archived original that no activity points at is removed, or, when
   * the store cannot be reached (the usual cause), queued in the deletion outbox that the stream
   * drain empties once the store is back. No original stays behind without an activity.
   */
  private async reclaimOriginal(key: string): Promise<void> {
    try {
      if ((await this.jobs.isOriginalReferenced(key)) || (await this.originals.isKeyListed(key))) return;
    } catch (error) {
      this.logger.error(`The original ${key} of a failed import may be left with no activity: it could not be checked (${String(error)})`);
      return;
    }
    await this.discard([key]);
  }

  /** Objects a failed request put and nothing points at: removed now, else queued in the deletion outbox. */
  private async discard(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    try {
      await this.archive.remove(keys).catch(async () => {
        for (const key of keys) await this.jobs.enqueueObjectDeletion(key);
      });
    } catch (error) {
      this.logger.error(`Objects of a failed import left behind (${keys.join(', ')}): they could not be removed nor queued for removal (${String(error)})`);
    }
  }

  /** Validates every activity with the API's own create schema before anything is written; answers the parsed inputs. */
  private checkActivities(owner: ImportOwner, activities: ImportedActivity[], sha256: string): ActivityCreate[] {
    return activities.map((activity, index) => {
      const parsed = ActivityCreateSchema.safeParse(this.createInput(owner, activity, index === 0 ? sha256 : `${sha256}/${index}`));
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new UnreadableFileError(`activity ${index + 1} breaks a rule of the data model: ${issue.path.join('.')}: ${issue.message}`);
      }
      return parsed.data;
    });
  }

  private createInput(owner: ImportOwner, activity: ImportedActivity, externalId: string): ActivityCreate {
    const fields = (a: ImportedActivity) => ({
      activityType: a.activityType,
      sourceActivityType: a.sourceActivityType,
      source: 'file' as const,
      name: a.name ?? null,
      notes: a.notes ?? null,
      startTime: a.startTime,
      endTime: a.endTime,
      // Unknown stays null (§9): a file's activity does not take the athlete's zone.
      timeZone: a.timeZone ?? null,
      durationS: a.durationS ?? null,
      movingTimeS: a.movingTimeS ?? null,
      distanceM: a.distanceM ?? null,
      activeEnergyKcal: a.activeEnergyKcal ?? null,
      avgHeartRateBpm: a.avgHeartRateBpm ?? null,
      maxHeartRateBpm: a.maxHeartRateBpm ?? null,
      elevationGainM: a.elevationGainM ?? null,
      elevationLossM: a.elevationLossM ?? null,
      avgSpeedMS: a.avgSpeedMS ?? null,
      maxSpeedMS: a.maxSpeedMS ?? null,
      isIndoor: a.isIndoor ?? null,
      deviceName: a.deviceName ?? null,
      sourceData: a.sourceData as ActivityCreate['sourceData'],
      statistics: a.statistics,
      events: a.events as ActivityCreate['events'],
    });
    return {
      athleteId: owner.athleteId,
      ...fields(activity),
      externalId,
      children: activity.children.map((child, index) => ({ ...fields(child), externalId: `${externalId}#${index + 1}` })),
    };
  }

  /** Creates one top-level activity (with its children) and stores its streams; an existing one is reported as such. */
  private async persist(
    owner: ImportOwner,
    activity: ImportedActivity,
    input: ActivityCreate,
    archiveKey: string,
    archiveIndex: number,
    warnings: string[],
    prepared: PreparedStreams = [],
  ): Promise<{ id: string; created: boolean; samples: number }> {
    const withArchive: WithArchive<ActivityCreate> = {
      ...input,
      sourceArchiveKey: archiveKey,
      sourceArchiveIndex: archiveIndex,
      children: input.children?.map((child, index) => ({ ...child, sourceArchiveKey: archiveKey, sourceArchiveIndex: archiveIndex + 1 + index })),
    };
    let created;
    try {
      created = await this.activities.insert(owner.userId, withArchive);
    } catch (error) {
      const existingId = error instanceof ORPCError && error.code === 'CONFLICT' ? (error.data as { existingId?: string } | undefined)?.existingId : undefined;
      if (existingId) return { id: existingId, created: false, samples: 0 };
      throw error;
    }
    // The activity and each of its legs (children are inserted in input order), with their streams.
    const targets = [created, ...created.children].map((row, index) => ({
      ref: { id: row.id, athleteId: owner.athleteId, startTime: row.startTime, endTime: row.endTime },
      streams: index === 0 ? activity.streams : activity.children[index - 1]!.streams,
      prepared: prepared[index] ?? {},
      label: index === 0 ? '' : ` of leg ${index}`,
    }));
    // Every leg at once: each write waits on the object store and one row swap, not on this thread's CPU.
    const outcomes = await Promise.allSettled(targets.map((target) => this.storeStreams(target)));
    const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed) {
      // Storage failed half-way: take the activity back out, so that the next run imports the file again.
      await this.activities.delete(owner.userId, created.id).catch((cleanup: unknown) => this.logger.error(`Could not remove ${created.id}: ${String(cleanup)}`));
      throw failed.reason;
    }
    let samples = 0;
    for (const outcome of outcomes as PromiseFulfilledResult<{ samples: number; warnings: string[] }>[]) {
      samples += outcome.value.samples;
      warnings.push(...outcome.value.warnings);
    }
    return { id: created.id, created: true, samples };
  }

  /**
   * The streams of one activity: those the parse pool prepared (validated and encoded there) in one
   * write of their objects and one row swap; others (Apple Health's) validated and encoded here.
   * A stream that breaks a rule is a warning; a storage failure is thrown. Answers the samples stored
   * and the warnings.
   */
  private async storeStreams(target: {
    ref: StreamActivity;
    streams: ImportedActivity['streams'];
    prepared: PreparedStreams[number];
    label: string;
  }): Promise<{ samples: number; warnings: string[] }> {
    const warnings: string[] = [];
    const notStored = (type: StreamType, message: string) => warnings.push(`${type} stream${target.label} not stored: ${message}`);
    const ready: Partial<Record<StreamType, PreparedUpload>> = {};
    const others: [StreamType, StreamSamples][] = [];
    for (const [type, data] of Object.entries(target.streams) as [StreamType, StreamSamples | undefined][]) {
      if (!data || data.timestamps.length === 0) continue;
      const prepared = target.prepared[type];
      if (!prepared) others.push([type, data]);
      else if (prepared.ok) ready[type] = prepared.value;
      else notStored(type, prepared.error.message);
    }
    let samples = 0;
    const { stored, rejected } = await this.streams.storePreparedStreams(target.ref, ready);
    for (const metadata of stored) samples += metadata.sampleCount;
    for (const { type, error } of rejected) notStored(type, error.message);
    await Promise.all(
      others.map(([type, data]) =>
        this.streams.replaceStream(target.ref, type, data).then(
          () => (samples += data.timestamps.length),
          (error: unknown) => {
            if (error instanceof SampleValidationError || error instanceof TooManySamplesError) notStored(type, error.message);
            else throw error;
          },
        ),
      ),
    );
    return { samples, warnings };
  }

  private async enqueue(owner: ImportOwner, files: File[]): Promise<ImportJob> {
    const id = randomUUID();
    const stagedFiles: ImportJobRow['stagedFiles'] = [];
    let row: ImportJobRow;
    try {
      for (const [index, file] of files.entries()) {
        const staged: ImportJobRow['stagedFiles'][number] = { name: file.name || `upload-${index + 1}`, key: stagedUploadKey(id, index), size: file.size };
        stagedFiles.push(staged);
        const encoding = await this.archive.stage(staged.key, new Uint8Array(await file.arrayBuffer()));
        if (encoding) staged.encoding = encoding;
      }
      row = await this.jobs.insertJob({ id, athleteId: owner.athleteId, userId: owner.userId, stagedFiles, filesTotal: files.length });
    } catch (error) {
      // No job: the files staged so far are removed (or queued for removal), so nothing was changed.
      await this.discard(stagedFiles.map((file) => file.key));
      throw error;
    }
    await this.queue.send(id);
    return toJob(row);
  }

  /** Runs (or resumes) one job; throwing hands it back to pg-boss for a retry. */
  async runJob(jobId: string): Promise<void> {
    const job = await this.jobs.findJob(jobId);
    if (!job || job.status === 'completed') return;
    const owner = { userId: job.userId, athleteId: job.athleteId };
    // A half-done file's results are dropped: the file is processed again (its finished parts are skipped by hash).
    const results = (job.results as StoredResult[]).filter((r) => r.upload < job.filesDone);
    await this.jobs.updateJob(jobId, { status: 'running', startedAt: job.startedAt ?? new Date(), error: null, results });
    try {
      for (let upload = job.filesDone; upload < job.stagedFiles.length; upload++) {
        const staged = job.stagedFiles[upload]!;
        const bytes = await this.archive.getStaged(staged.key, staged.encoding);
        for await (const result of this.importInput(owner, { name: staged.name, bytes })) {
          results.push({ ...result, upload });
          await this.jobs.updateJob(jobId, { results, ...counters(results) });
        }
        await this.jobs.updateJob(jobId, { filesDone: upload + 1, results, ...counters(results) });
      }
      await this.jobs.updateJob(jobId, { status: 'completed', finishedAt: new Date() });
      await this.archive.remove(job.stagedFiles.map((f) => f.key)).catch(() => undefined);
    } catch (error) {
      this.logger.error(`Import job ${jobId} failed: ${String(error)}`);
      await this.jobs.updateJob(jobId, { status: 'failed', error: 'The import stopped on a server error; it is retried automatically' });
      throw error;
    }
  }
}

/**
 * The activity's sample columns as this realm's typed arrays. A worker's answer is rebuilt in Node's
 * main realm; code in another realm (Jest runs tests in a vm context) refuses them (`instanceof
 * Float64Array`) when it prepares them again, as deriveFile does after a mapping tweak.
 */
function ownRealmSamples(activity: ImportedActivity): void {
  for (const samples of Object.values(activity.streams)) {
    const columns = samples as unknown as Record<string, unknown> | undefined;
    for (const [key, column] of Object.entries(columns ?? {})) {
      if (ArrayBuffer.isView(column) && !(column instanceof Float64Array) && column.constructor.name === 'Float64Array') {
        columns![key] = Float64Array.from(column as unknown as ArrayLike<number>);
      }
    }
  }
}

/** The extension a rejected file is archived under: its name's, when it is one the importer reads. */
function rejectedExtension(name: string): string {
  const extension = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
  return ['fit', 'gpx', 'tcx', 'xml', 'json'].includes(extension) ? extension : 'bin';
}

function counters(results: ImportFileResult[]) {
  const summary = summarise(results);
  return { activitiesCreated: summary.activities, samplesWritten: summary.samples };
}

function capWarnings(warnings: string[]): string[] {
  if (warnings.length <= MAX_WARNINGS_PER_FILE) return warnings;
  return [...warnings.slice(0, MAX_WARNINGS_PER_FILE), `… and ${warnings.length - MAX_WARNINGS_PER_FILE} more warnings`];
}

/** An import job's public shape (GET /api/v1/imports/{jobId}; the import.finished webhook). */
export function toJob(row: ImportJobRow): ImportJob {
  const files = (row.results as StoredResult[]).map(({ upload: _upload, ...result }) => result);
  return {
    id: row.id,
    athleteId: row.athleteId,
    status: row.status,
    filesTotal: row.filesTotal,
    filesDone: row.filesDone,
    summary: summarise(files),
    files,
    error: row.error,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
  };
}
