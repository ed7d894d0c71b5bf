import { Injectable } from '@nestjs/common';
import { MAX_IMPORT_UPLOAD_BYTES, type importsContract } from '@unified-activity/contract';
import { authed } from '../api/orpc.js';
import type { TransportNeeds } from '../api/transport/procedure-transport.js';
import { registerMultipartUploads } from './multipart-upload.js';
import { ImportsService } from './imports.service.js';

@Injectable()
export class ImportsRouter {
  constructor(private readonly imports: ImportsService) {}

  readonly procedures = {
    create: authed.imports.create.handler(({ input, context }) =>
      this.imports.importUpload(context.user.id, input.params.id, input.body.files, input.query.async ?? false),
    ),
    getJob: authed.imports.getJob.handler(({ input, context }) => this.imports.getJob(context.user.id, input.jobId)),
    original: authed.imports.original.handler(({ input, context }) => this.imports.original(context.user.id, input.id)),
  };

  /** File imports take up to 128 MiB of multipart, read file by file to disk over REST (multipart-upload.ts). */
  readonly transport: TransportNeeds<typeof importsContract> = {
    create: { bodyLimit: MAX_IMPORT_UPLOAD_BYTES, restBody: registerMultipartUploads },
  };
}
