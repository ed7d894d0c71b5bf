import { Injectable } from '@nestjs/common';
import { authed } from '../api/orpc.js';
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
}
