import { Injectable } from '@nestjs/common';
import { authed } from '../api/orpc.js';
import { OriginalsService } from './originals.service.js';

@Injectable()
export class OriginalsRouter {
  constructor(private readonly originals: OriginalsService) {}

  readonly procedures = {
    list: authed.originals.list.handler(({ input, context }) => this.originals.list(context.user.id, input.id, input)),
    get: authed.originals.get.handler(({ input, context }) => this.originals.bytes(context.user.id, input.id, input.sha256)),
  };
}
