import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { Database, DatabaseHandle } from './database.js';

export const DATABASE_HANDLE = Symbol('DATABASE_HANDLE');
export const DRIZZLE = Symbol('DRIZZLE');
const CLOSE_ON_SHUTDOWN = Symbol('CLOSE_ON_SHUTDOWN');

/** Injects the one Drizzle instance: `@InjectDb() private readonly db: Database`. */
export const InjectDb = () => Inject(DRIZZLE);

/**
 * The handle is opened (and migrated) before Nest starts, in createApp, so that a bad DATABASE_URL
 * fails with one clear line instead of a half-built application. Tests pass in a shared handle and
 * keep ownership of it (closeOnShutdown: false).
 */
@Global()
@Module({})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(
    @Inject(DATABASE_HANDLE) private readonly handle: DatabaseHandle,
    @Inject(CLOSE_ON_SHUTDOWN) private readonly closeOnShutdown: boolean,
  ) {}

  static forRoot(handle: DatabaseHandle, options: { closeOnShutdown: boolean }): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [
        { provide: DATABASE_HANDLE, useValue: handle },
        { provide: DRIZZLE, useValue: handle.db satisfies Database },
        { provide: CLOSE_ON_SHUTDOWN, useValue: options.closeOnShutdown },
      ],
      exports: [DRIZZLE, DATABASE_HANDLE],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.closeOnShutdown) await this.handle.close();
  }
}
