import { Injectable } from '@nestjs/common';
import { authed } from '../api/orpc.js';
import { ReprocessService } from './reprocess.service.js';

@Injectable()
export class ReprocessRouter {
  constructor(private readonly reprocess: ReprocessService) {}

  readonly procedures = {
    create: authed.reprocess.create.handler(({ input, context }) => {
      const { id, ...options } = input;
      return this.reprocess.create(context.user.id, id, options);
    }),
    getJob: authed.reprocess.getJob.handler(({ input, context }) => this.reprocess.getJob(context.user.id, input.jobId)),
  };
}
