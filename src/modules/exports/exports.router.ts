import { Injectable } from '@nestjs/common';
import { authed } from '../api/orpc.js';
import { ExportsService } from './exports.service.js';

@Injectable()
export class ExportsRouter {
  constructor(private readonly exports: ExportsService) {}

  readonly procedures = {
    create: authed.exports.create.handler(({ input, context }) => this.exports.create(context.user.id, input.id)),
    getJob: authed.exports.getJob.handler(({ input, context }) => this.exports.getJob(context.user.id, input.jobId)),
    download: authed.exports.download.handler(({ input, context }) => this.exports.download(context.user.id, input.jobId)),
    activityGpx: authed.exports.activityGpx.handler(({ input, context }) => this.exports.activityGpx(context.user.id, input.id)),
  };
}
