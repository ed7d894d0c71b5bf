import { Injectable } from '@nestjs/common';
import { authed } from '../api/orpc.js';
import { trustedOutput } from '../api/trusted-output.js';
import { ActivitiesService } from './activities.service.js';

@Injectable()
export class ActivitiesRouter {
  constructor(private readonly activities: ActivitiesService) {}

  readonly procedures = {
    list: trustedOutput(authed.activities.list.handler(({ input, context }) => this.activities.list(context.user.id, input))),
    get: trustedOutput(authed.activities.get.handler(({ input, context }) => this.activities.get(context.user.id, input.id))),
    create: trustedOutput(authed.activities.create.handler(({ input, context }) => this.activities.create(context.user.id, input))),
    update: trustedOutput(authed.activities.update.handler(({ input, context }) => this.activities.update(context.user.id, input))),
    delete: authed.activities.delete.handler(({ input, context }) => this.activities.delete(context.user.id, input.id)),
    joinDuplicateGroup: trustedOutput(
      authed.activities.joinDuplicateGroup.handler(({ input, context }) => this.activities.joinDuplicateGroup(context.user.id, input.id, input.activityId)),
    ),
    leaveDuplicateGroup: trustedOutput(authed.activities.leaveDuplicateGroup.handler(({ input, context }) => this.activities.leaveDuplicateGroup(context.user.id, input.id))),
    makePrimary: trustedOutput(authed.activities.makePrimary.handler(({ input, context }) => this.activities.makePrimary(context.user.id, input.id))),
  };
}
