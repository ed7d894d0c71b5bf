import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { SyncSource } from '@unified-activity/contract';
import type { NormalizedActivity } from '../sync/mappers/normalized.js';
import type { ImportedActivity } from './parsers/types.js';

/**
 * The one injection point for a change of parsing or mapping without a change of code (tests of
 * reprocessing: "what if today's parser read this file differently"). Production has none: the
 * provider is an empty object. A test app passes its own through createApp's `mappingTweaks` and
 * may set or clear a hook between requests; every derivation reads it when it runs:
 *
 * - `file`: each activity of an imported file, after its parser (and each child after its parent);
 *   it may change the activity in place, or throw UnreadableFileError to reject the file.
 * - `sync`: each mapped sync item; it may change it in place, or throw MappingError to refuse it.
 *
 * The importer and the sync batch apply it on the way in, the reprocess when it derives again.
 */
export interface MappingTweaks {
  file?: (activity: ImportedActivity, file: { name: string; format: string }) => void;
  sync?: (activity: NormalizedActivity, source: SyncSource) => void;
}

export const MAPPING_TWEAKS = Symbol('MAPPING_TWEAKS');

@Global()
@Module({})
export class MappingTweaksModule {
  static forRoot(tweaks: MappingTweaks = {}): DynamicModule {
    return { module: MappingTweaksModule, providers: [{ provide: MAPPING_TWEAKS, useValue: tweaks }], exports: [MAPPING_TWEAKS] };
  }
}
