import { Injectable } from '@nestjs/common';
import { authed } from '../api/orpc.js';
import { StreamsService } from './streams.service.js';

@Injectable()
export class StreamsRouter {
  constructor(private readonly streams: StreamsService) {}

  /** For the upload route: large JSON bodies are scanned off the event loop. */
  readonly scanJsonBody = (sizeHint?: number) => this.streams.scanJsonBody(sizeHint);

  readonly procedures = {
    list: authed.streams.list.handler(({ input, context }) => this.streams.list(context.user.id, input.id)),
    upload: authed.streams.upload.handler(({ input, context }) =>
      this.streams.upload(context.user.id, input.params.id, input.params.type, input.body),
    ),
    uploadFile: authed.streams.uploadFile.handler(({ input, context }) =>
      this.streams.upload(context.user.id, input.params.id, input.params.type, input.body),
    ),
    get: authed.streams.get.handler(({ input, context }) =>
      this.streams.samples(context.user.id, input.id, input.type, input.maxPoints),
    ),
    download: authed.streams.download.handler(({ input, context }) =>
      this.streams.download(context.user.id, input.id, input.type, input.redirect ?? true),
    ),
    delete: authed.streams.delete.handler(({ input, context }) => this.streams.delete(context.user.id, input.id, input.type)),
  };
}
