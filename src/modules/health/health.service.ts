import { Inject, Injectable } from '@nestjs/common';
import { DATABASE_HANDLE } from '../../database/database.module.js';
import { pingDatabase, type DatabaseHandle } from '../../database/database.js';

export interface HealthReport {
  status: 'ok' | 'degraded';
  database: { status: 'up' | 'down'; kind: DatabaseHandle['kind']; latencyMs?: number };
}

@Injectable()
export class HealthService {
  constructor(@Inject(DATABASE_HANDLE) private readonly handle: DatabaseHandle) {}

  async check(): Promise<HealthReport> {
    const started = performance.now();
    try {
      await pingDatabase(this.handle.db);
      const latencyMs = Math.round((performance.now() - started) * 10) / 10;
      return { status: 'ok', database: { status: 'up', kind: this.handle.kind, latencyMs } };
    } catch {
      return { status: 'degraded', database: { status: 'down', kind: this.handle.kind } };
    }
  }
}
