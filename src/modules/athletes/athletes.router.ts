import { Injectable } from '@nestjs/common';
import { authed } from '../api/orpc.js';
import { trustedOutput } from '../api/trusted-output.js';
import { AthletesService } from './athletes.service.js';

/** The athletes procedures of the contract: one line each, all rules live in the service. */
@Injectable()
export class AthletesRouter {
  constructor(private readonly athletes: AthletesService) {}

  readonly procedures = {
    list: trustedOutput(authed.athletes.list.handler(({ input, context }) => this.athletes.list(context.user.id, input ?? {}))),
    get: trustedOutput(authed.athletes.get.handler(({ input, context }) => this.athletes.get(context.user.id, input.id))),
    create: trustedOutput(authed.athletes.create.handler(({ input, context }) => this.athletes.create(context.user.id, input))),
    update: trustedOutput(authed.athletes.update.handler(({ input, context }) => this.athletes.update(context.user.id, input))),
    delete: authed.athletes.delete.handler(({ input, context }) => this.athletes.delete(context.user.id, input.id)),
    getSourcePriorities: authed.athletes.getSourcePriorities.handler(({ input, context }) => this.athletes.getSourcePriorities(context.user.id, input.id)),
    putSourcePriorities: authed.athletes.putSourcePriorities.handler(({ input, context }) => this.athletes.putSourcePriorities(context.user.id, input)),
  };
}
