import { Inject, Injectable } from '@nestjs/common';
import { DATABASE_HANDLE } from '../../database/database.module.js';
import { pingDatabase, type DatabaseHandle } from '../../database/database.js';
import type { ObjectStore } from '../streams/storage/object-store.js';
import { OBJECT_STORE } from '../streams/streams.service.js';

export interface DependencyStatus {
  status: 'up' | 'down';
  latencyMs?: number;
  /** Why it is down (no credentials or internals: the error's message only). */
  error?: string;
}

export interface HealthReport {
  /** `ok` only when every dependency the API needs answers; the endpoint then says 200, else 503. */
  status: 'ok' | 'degraded';
  database: DependencyStatus & { kind: DatabaseHandle['kind'] };
  storage: DependencyStatus & { kind: ObjectStore['kind'] };
}

/** A check that has not answered by then counts as down (a black-holed server would hang it). */
const CHECK_TIMEOUT_MS = 3_000;

async function timed(check: () => Promise<unknown>): Promise<DependencyStatus> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { status: 'up', latencyMs: Math.round((performance.now() - started) * 10) / 10 };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { status: 'down', error: message.split('\n')[0]!.slice(0, 300) };
  } finally {
    clearTimeout(timer);
  }
}

@Injectable()
export class HealthService {
  constructor(
    @Inject(DATABASE_HANDLE) private readonly handle: DatabaseHandle,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
  ) {}

  async check(): Promise<HealthReport> {
    const [database, storage] = await Promise.all([
      timed(() => pingDatabase(this.handle.db)),
      // A signed LIST of an unused prefix: proves the service answers, the bucket exists and the
      // credentials are accepted, and reads nothing.
      timed(async () => {
        for await (const _ of this.store.list('.health/')) break;
      }),
    ]);
    const status = database.status === 'up' && storage.status === 'up' ? 'ok' : 'degraded';
    return { status, database: { ...database, kind: this.handle.kind }, storage: { ...storage, kind: this.store.kind } };
  }
}
