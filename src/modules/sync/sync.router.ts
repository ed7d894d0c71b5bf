import { Injectable } from '@nestjs/common';
import { MAX_BATCH_BYTES, type syncContract } from '@unified-activity/contract';
import { authed } from '../api/orpc.js';
import type { TransportNeeds } from '../api/transport/procedure-transport.js';
import { SyncService } from './sync.service.js';

@Injectable()
export class SyncRouter {
  constructor(private readonly sync: SyncService) {}

  readonly procedures = {
    listStates: authed.sync.listStates.handler(({ input, context }) => this.sync.listStates(context.user.id, input.id)),
    getState: authed.sync.getState.handler(({ input, context }) => this.sync.getState(context.user.id, input.id, input.source)),
    updateState: authed.sync.updateState.handler(({ input, context }) => this.sync.updateState(context.user.id, input.id, input.source, input.cursor)),
    start: authed.sync.start.handler(({ input, context }) => this.sync.start(context.user.id, input.id, input.source)),
    finish: authed.sync.finish.handler(({ input: { id, source, ...rest }, context }) => this.sync.finish(context.user.id, id, source, rest)),
    ingestBatch: authed.sync.ingestBatch.handler(({ input: { id, source, ...batch }, context }) =>
      this.sync.ingestBatch(context.user.id, id, source, batch, context.rawBody),
    ),
  };

  /** Batches take up to MAX_BATCH_BYTES; their exact REST body is archived raw (§6). */
  readonly transport: TransportNeeds<typeof syncContract> = {
    ingestBatch: {
      bodyLimit: MAX_BATCH_BYTES,
      rawBody: { tooLarge: `The batch body is larger than ${MAX_BATCH_BYTES / 1024 / 1024} MiB; send fewer activities per batch` },
    },
  };
}
