import { Injectable } from '@nestjs/common';
import { authed } from '../api/orpc.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import { WebhooksService } from './webhooks.service.js';

/** The webhook-endpoint procedures: one line each, the rules live in the service. */
@Injectable()
export class WebhooksRouter {
  constructor(
    private readonly webhooks: WebhooksService,
    private readonly dispatcher: WebhookDispatcher,
  ) {}

  readonly procedures = {
    create: authed.webhooks.create.handler(({ input, context }) => this.webhooks.create(context.user.id, input)),
    list: authed.webhooks.list.handler(({ context }) => this.webhooks.list(context.user.id)),
    get: authed.webhooks.get.handler(({ input, context }) => this.webhooks.get(context.user.id, input.id)),
    update: authed.webhooks.update.handler(({ input, context }) => this.webhooks.update(context.user.id, input)),
    delete: authed.webhooks.delete.handler(({ input, context }) => this.webhooks.delete(context.user.id, input.id)),
    deliveries: authed.webhooks.deliveries.handler(({ input, context }) => this.webhooks.deliveries(context.user.id, input.id, input.limit)),
    retry: authed.webhooks.retry.handler(async ({ input, context }) => {
      // Sent now, whatever its state; the answer shows this attempt.
      await this.dispatcher.attempt(await this.webhooks.delivery(context.user.id, input.id, input.deliveryId));
      return this.webhooks.describeDelivery(input.deliveryId);
    }),
  };
}
