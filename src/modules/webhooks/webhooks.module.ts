import { Module } from '@nestjs/common';
import { ActivitiesModule } from '../activities/activities.module.js';
import { AthletesModule } from '../athletes/athletes.module.js';
import { ChangesModule } from '../changes/changes.module.js';
import { CryptoModule } from '../crypto/crypto.module.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import { WebhooksRouter } from './webhooks.router.js';
import { WebhooksService } from './webhooks.service.js';

/** Outbound webhooks fed by the change feed (README "Following changes"). */
@Module({
  imports: [AthletesModule, ActivitiesModule, ChangesModule, CryptoModule],
  providers: [WebhooksService, WebhookDispatcher, WebhooksRouter],
  exports: [WebhooksRouter, WebhooksService, WebhookDispatcher],
})
export class WebhooksModule {}
