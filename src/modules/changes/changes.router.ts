import { Injectable } from '@nestjs/common';
import { authed } from '../api/orpc.js';
import { ChangesService } from './changes.service.js';

/** The change feed's procedure: one line, the rules live in the service. */
@Injectable()
export class ChangesRouter {
  constructor(private readonly changes: ChangesService) {}

  readonly procedures = {
    list: authed.changes.list.handler(({ input, context }) => this.changes.list(context.user.id, input)),
  };
}
