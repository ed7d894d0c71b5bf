import { Injectable } from '@nestjs/common';
import { MAX_WEBHOOK_BYTES, type connectionsContract } from '@unified-activity/contract';
import { authed, os } from '../api/orpc.js';
import type { TransportNeeds } from '../api/transport/procedure-transport.js';
import { trustedOutput } from '../api/trusted-output.js';
import { ConnectionsService } from './connections.service.js';
import { StravaWebhooks } from './strava/strava-webhooks.js';

/** The connections procedures of the contract: one line each, all rules live in the service. */
@Injectable()
export class ConnectionsRouter {
  constructor(
    private readonly connections: ConnectionsService,
    private readonly strava: StravaWebhooks,
  ) {}

  readonly procedures = {
    providers: trustedOutput(os.connections.providers.handler(() => this.connections.providers())),
    list: trustedOutput(authed.connections.list.handler(({ input, context }) => this.connections.list(context.user.id, input.id))),
    connect: authed.connections.connect.handler(({ input, context }) =>
      this.connections.connect(context.user.id, input.id, input.provider, input.returnTo),
    ),
    // Public: the browser comes back from the provider; the single-use state says whose flow it is.
    callback: os.connections.callback.handler(({ input }) => this.connections.callback(input)),
    disconnect: authed.connections.disconnect.handler(({ input, context }) =>
      this.connections.disconnect(context.user.id, input.id, input.provider, input.deleteData),
    ),
    // Public: Strava calls these; the verify token (check) and the subscription id (events) say it is Strava.
    stravaWebhookCheck: os.connections.stravaWebhookCheck.handler(({ input }) => this.strava.check(input)),
    stravaWebhookEvent: os.connections.stravaWebhookEvent.handler(({ input, context }) => this.strava.event(input, context.rawBody)),
  };

  /** Webhook bodies are small and archived exactly as received. */
  readonly transport: TransportNeeds<typeof connectionsContract> = {
    stravaWebhookEvent: { bodyLimit: MAX_WEBHOOK_BYTES, rawBody: { tooLarge: `A Strava event is at most ${MAX_WEBHOOK_BYTES / 1024} KiB` } },
  };
}
