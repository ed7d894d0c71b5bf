import { Injectable } from '@nestjs/common';
import { authed, os } from '../api/orpc.js';
import { trustedOutput } from '../api/trusted-output.js';
import { ConnectionsService } from './connections.service.js';

/** The connections procedures of the contract: one line each, all rules live in the service. */
@Injectable()
export class ConnectionsRouter {
  constructor(private readonly connections: ConnectionsService) {}

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
  };
}
