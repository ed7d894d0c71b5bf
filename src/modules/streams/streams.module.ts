import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { ENV } from '../../config/config.module.js';
import type { Env } from '../../config/env.js';
import { ActivitiesModule } from '../activities/activities.module.js';
import { ArchivedOriginalsRepository } from './archived-originals.repository.js';
import { createObjectStore } from './storage/create-object-store.js';
import type { ObjectStore } from './storage/object-store.js';
import { StreamMetadataModule } from './stream-metadata.module.js';
import { StreamsRouter } from './streams.router.js';
import { OBJECT_STORE, StreamsService } from './streams.service.js';

/** Owns the object store: no other module imports the S3 client (STYLE.md). */
@Module({
  imports: [ActivitiesModule, StreamMetadataModule],
  providers: [
    { provide: OBJECT_STORE, inject: [ENV], useFactory: (env: Env): ObjectStore => createObjectStore(env) },
    ArchivedOriginalsRepository,
    StreamsService,
    StreamsRouter,
  ],
  exports: [StreamsService, StreamsRouter, OBJECT_STORE],
})
export class StreamsModule implements OnApplicationShutdown {
  constructor(@Inject(OBJECT_STORE) private readonly store: ObjectStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close?.();
  }
}
