import { Injectable } from '@nestjs/common';
import type { streamsContract } from '@unified-activity/contract';
import type { TimeRange } from '@unified-activity/parquet-streams';
import { authed } from '../api/orpc.js';
import type { TransportNeeds } from '../api/transport/procedure-transport.js';
import { MAX_BODY_BYTES, registerStreamUploadParsers, StreamUploadBody } from './http/stream-routes.js';
import { StreamsService } from './streams.service.js';

/** The range a read asks for, [from, to) in epoch ms; an end left out is open. */
function timeRange({ from, to }: { from?: number; to?: number }): TimeRange | undefined {
  if (from === undefined && to === undefined) return undefined;
  return { fromMs: from ?? Number.NEGATIVE_INFINITY, toMs: to ?? Number.POSITIVE_INFINITY };
}

@Injectable()
export class StreamsRouter {
  constructor(private readonly streams: StreamsService) {}

  readonly procedures = {
    list: authed.streams.list.handler(({ input, context }) => this.streams.list(context.user.id, input.id)),
    upload: authed.streams.upload.handler(({ input, context }) =>
      this.streams.upload(
        context.user.id,
        input.params.id,
        input.params.type,
        input.body,
        context.upload instanceof StreamUploadBody ? context.upload : undefined,
      ),
    ),
    uploadFile: authed.streams.uploadFile.handler(({ input, context }) =>
      this.streams.upload(context.user.id, input.params.id, input.params.type, input.body),
    ),
    get: authed.streams.get.handler(({ input, context }) =>
      this.streams.samples(context.user.id, input.id, input.type, { maxPoints: input.maxPoints, range: timeRange(input) }, context.reply),
    ),
    download: authed.streams.download.handler(({ input, context }) =>
      this.streams.download(context.user.id, input.id, input.type, input.redirect ?? true),
    ),
    delete: authed.streams.delete.handler(({ input, context }) => this.streams.delete(context.user.id, input.id, input.type)),
  };

  /**
   * Uploads take bodies of up to 128 MiB; the REST upload reads JSON and Parquet bodies itself
   * (stream-routes: large JSON scanned off the event loop as it arrives, Parquet into one buffer);
   * large reads are written as a stream.
   */
  readonly transport: TransportNeeds<typeof streamsContract> = {
    upload: {
      bodyLimit: MAX_BODY_BYTES,
      restBody: (scope) => registerStreamUploadParsers(scope, { limit: MAX_BODY_BYTES, scanBody: (sizeHint) => this.streams.scanJsonBody(sizeHint) }),
    },
    uploadFile: { bodyLimit: MAX_BODY_BYTES },
    get: { streamedRead: true },
  };
}
