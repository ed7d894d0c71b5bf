import { Inject, Injectable } from '@nestjs/common';
import { MAX_GARMIN_PUSH_BYTES, type providerWebhooksContract } from '@unified-activity/contract';
import { ENV } from '../../../config/config.module.js';
import type { Env } from '../../../config/env.js';
import { os } from '../../api/orpc.js';
import type { TransportNeeds } from '../../api/transport/procedure-transport.js';
import { GarminPushes } from './garmin-pushes.js';
import { PushRateLimit } from './push-rate-limit.js';

/** The provider webhooks (public: the provider calls them; each checks what its provider sends). */
@Injectable()
export class ProviderWebhooksRouter {
  private readonly limit: PushRateLimit;

  constructor(
    @Inject(ENV) env: Env,
    private readonly garmin: GarminPushes,
  ) {
    this.limit = new PushRateLimit(env.GARMIN_PUSH_RATE_LIMIT);
  }

  readonly procedures = {
    garminPush: os.providerWebhooks.garminPush.handler(({ input, context }) => this.garmin.receive(input, context.headers, context.rawBody)),
  };

  /** Push bodies are archived as received (rawBody), bounded, and rate limited per address before they are read. */
  readonly transport: TransportNeeds<typeof providerWebhooksContract> = {
    garminPush: {
      bodyLimit: MAX_GARMIN_PUSH_BYTES,
      rawBody: { tooLarge: `The push body is larger than ${MAX_GARMIN_PUSH_BYTES / 1024 / 1024} MiB` },
      restBody: (scope) => {
        scope.addHook('onRequest', this.limit.hook);
      },
    },
  };
}
