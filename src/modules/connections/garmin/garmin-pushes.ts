import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ORPCError } from '@orpc/server';
import { GARMIN_PUSH_TYPES, MAX_BATCH_ACTIVITIES, type GarminPushResult, type GarminPushType } from '@unified-activity/contract';
import { ENV } from '../../../config/config.module.js';
import type { Env } from '../../../config/env.js';
import type { ProviderConnectionRow } from '../../../database/schema/index.js';
import { malformedRequest, ruleViolation, type ApiIssue } from '../../api/errors.js';
import { ImportsService } from '../../imports/imports.service.js';
import { RawArchive } from '../../sync/raw-archive.js';
import { SyncService } from '../../sync/sync.service.js';
import { ConnectionsRepository } from '../connections.repository.js';
import { ACCESS_TOKENS, ConnectionRevoked, type AccessTokens } from '../access-tokens.js';
import { GarminBackfill } from './garmin-backfill.js';
import { GarminRepository } from './garmin.repository.js';

/** The header Garmin sends its pushes with: the partner's consumer key (client id). */
export const GARMIN_CLIENT_ID_HEADER = 'garmin-client-id';
/** Largest activity file downloaded from a callback URL. */
export const MAX_GARMIN_FILE_BYTES = 64 * 1024 * 1024;
const TIMEOUT_MS = 60_000;

type PushItem = Record<string, unknown> & { userId: string };
export type GarminPushBody = Partial<Record<GarminPushType, PushItem[]>> & { summaryType: GarminPushType };

const sameSecret = (given: string, expected: string) => {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
};

/**
 * Garmin's pushes (POST /api/v1/webhooks/garmin/{summaryType}): checks the consumer key Garmin sends
 * in `garmin-client-id`, skips a body handled before (its SHA-256 in provider_push_receipts), splits
 * the items by `userId` and hands each connected user's items on: activities and activity details to
 * the sync ingest path (same mappers, raw archive and idempotency as a sync batch), activity files
 * downloaded with the connection's token to the import path (as an uploaded file), deregistrations
 * and permission changes to the connection. Items of Garmin users connected to no athlete (or whose
 * connection is revoked) are acknowledged and dropped. It never writes activities itself.
 */
@Injectable()
export class GarminPushes {
  private readonly logger = new Logger('GarminPushes');

  constructor(
    @Inject(ENV) private readonly env: Env,
    private readonly garmin: GarminRepository,
    private readonly connections: ConnectionsRepository,
    private readonly sync: SyncService,
    private readonly imports: ImportsService,
    private readonly archive: RawArchive,
    private readonly backfill: GarminBackfill,
    private readonly moduleRef: ModuleRef,
  ) {}

  async receive(body: GarminPushBody, headers: Headers, rawBody?: Uint8Array): Promise<GarminPushResult> {
    if (!this.env.GARMIN_CLIENT_ID) throw new ORPCError('NOT_FOUND', { message: 'Garmin is not configured on this server' });
    const key = headers.get(GARMIN_CLIENT_ID_HEADER);
    if (!key || !sameSecret(key, this.env.GARMIN_CLIENT_ID)) {
      throw new ORPCError('UNAUTHORIZED', { message: `The ${GARMIN_CLIENT_ID_HEADER} header is missing or is not this server's Garmin consumer key` });
    }
    const { summaryType } = body;
    const issues: ApiIssue[] = GARMIN_PUSH_TYPES.filter((type) => type !== summaryType && body[type] !== undefined).map((type) => ({
      path: [type],
      message: `a ${type} push goes to /api/v1/webhooks/garmin/${type}, not /${summaryType}`,
    }));
    const items = body[summaryType];
    if (!items) issues.push({ path: [summaryType], message: `Required: the body of a ${summaryType} push is {"${summaryType}": [items]}` });
    if (issues.length > 0 || !items) throw malformedRequest(issues);

    const bytes = rawBody ?? new TextEncoder().encode(JSON.stringify({ [summaryType]: items }));
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (await this.garmin.seen(sha256)) return { items: items.length, handled: 0, dropped: 0, replayed: true };

    // One group per Garmin user, in the body's order.
    const groups = new Map<string, PushItem[]>();
    for (const item of items) {
      const list = groups.get(item.userId) ?? [];
      list.push(item);
      groups.set(item.userId, list);
    }
    const connected = new Map((await this.garmin.byGarminUsers([...groups.keys()])).filter((row) => row.status !== 'revoked').map((row) => [row.providerAthleteId, row]));
    let handled = 0;
    for (const [userId, group] of groups) {
      const connection = connected.get(userId);
      if (!connection) continue;
      // The exact body when it is all this user's; otherwise this user's part of it (another user's items never enter an athlete's archive).
      const own = groups.size === 1 ? bytes : new TextEncoder().encode(JSON.stringify({ [summaryType]: group }));
      await this.handle(summaryType, connection, group, own);
      handled += group.length;
    }
    const dropped = items.length - handled;
    if (dropped > 0) this.logger.log(`${summaryType} push: ${dropped} item(s) of Garmin users connected to no athlete here, dropped`);
    await this.garmin.recordReceipt(sha256, summaryType);
    return { items: items.length, handled, dropped, replayed: false };
  }

  private async handle(summaryType: GarminPushType, connection: ProviderConnectionRow, items: PushItem[], bytes: Uint8Array): Promise<void> {
    switch (summaryType) {
      case 'activities':
      case 'activityDetails': {
        let created = 0;
        for (let i = 0; i < items.length; i += MAX_BATCH_ACTIVITIES) {
          const part = items.slice(i, i + MAX_BATCH_ACTIVITIES);
          const partBytes = part.length === items.length ? bytes : new TextEncoder().encode(JSON.stringify({ [summaryType]: part }));
          const result = await this.sync.ingestBatch(connection.userId, connection.athleteId, 'garmin', { [summaryType]: part }, partBytes);
          created += result.created;
        }
        await this.garmin.recordEvent(connection.id, created);
        return;
      }
      case 'activityFiles':
        await this.archive.put(connection.athleteId, 'garmin', bytes, 'json');
        await this.importFiles(connection, items);
        await this.garmin.recordEvent(connection.id);
        return;
      case 'deregistrations':
        await this.archive.put(connection.athleteId, 'garmin', bytes, 'json');
        // The user disconnected this app in Garmin Connect: the tokens are dead; the data stays.
        await this.connections.update(connection.id, { status: 'revoked', tokensCiphertext: null, tokensKeyId: null, tokenExpiresAt: null, lastEventAt: new Date() });
        return;
      case 'userPermissionsChange': {
        const latest = items.at(-1)!;
        const permissions = latest.permissions;
        if (!Array.isArray(permissions) || !permissions.every((p) => typeof p === 'string')) {
          throw ruleViolation([{ path: ['userPermissionsChange', items.length - 1, 'permissions'], message: 'must be a list of permission names' }]);
        }
        await this.archive.put(connection.athleteId, 'garmin', bytes, 'json');
        await this.connections.update(connection.id, { scopes: permissions as string[], lastEventAt: new Date() });
        if (permissions.includes('ACTIVITY_EXPORT')) await this.backfill.resume(connection);
        return;
      }
    }
  }

  /**
   * Each item's FIT, downloaded from its callback URL with the connection's token (only from
   * GARMIN_API_URL's origin: the token never goes elsewhere) and imported like an uploaded file.
   */
  private async importFiles(connection: ProviderConnectionRow, items: PushItem[]): Promise<void> {
    const apiOrigin = new URL(this.env.GARMIN_API_URL).origin;
    const issues: ApiIssue[] = [];
    const urls = items.map((item, index) => {
      let url: URL | undefined;
      try {
        url = new URL(String(item.callbackURL));
      } catch {
        url = undefined;
      }
      if (!url || url.origin !== apiOrigin) issues.push({ path: ['activityFiles', index, 'callbackURL'], message: `must be a URL on ${apiOrigin}` });
      return url;
    });
    if (issues.length > 0) throw ruleViolation(issues);
    const service = this.moduleRef.get<AccessTokens>(ACCESS_TOKENS, { strict: false });
    for (const [index, item] of items.entries()) {
      let answer: Response;
      try {
        answer = await service.withAccessToken(connection.id, (token) => fetch(urls[index]!, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(TIMEOUT_MS) }));
      } catch (error) {
        if (error instanceof ConnectionRevoked) return;
        throw new ORPCError('SERVICE_UNAVAILABLE', { message: `Garmin's activity file could not be downloaded (${(error as Error).message}); send the push again` });
      }
      if (!answer.ok) {
        await answer.body?.cancel();
        throw new ORPCError('SERVICE_UNAVAILABLE', { message: `Garmin answered ${answer.status} to the download of activityFiles[${index}]; send the push again` });
      }
      const length = Number(answer.headers.get('content-length') ?? 0);
      if (length > MAX_GARMIN_FILE_BYTES) {
        await answer.body?.cancel();
        throw ruleViolation([{ path: ['activityFiles', index], message: `the file is larger than ${MAX_GARMIN_FILE_BYTES / 1024 / 1024} MiB` }]);
      }
      const file = new Uint8Array(await answer.arrayBuffer());
      const type = typeof item.fileType === 'string' ? item.fileType.toLowerCase() : 'fit';
      const name = `${String(item.activityId ?? item.summaryId ?? 'activity')}.${type}`;
      const imported = await this.imports.importUpload(connection.userId, connection.athleteId, [new File([file], name)]);
      if (imported.status === 200) {
        for (const result of imported.body.files.filter((f) => f.status === 'rejected')) {
          this.logger.warn(`Garmin activity file ${name} of connection ${connection.id} rejected: ${result.reason}`);
        }
      }
    }
  }
}
