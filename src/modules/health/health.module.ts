import { Module } from '@nestjs/common';
import { StreamsModule } from '../streams/streams.module.js';
import { HealthController } from './health.controller.js';
import { HealthService } from './health.service.js';

/** GET /health: the database and the object store, each with its status (200 when both are up, else 503). */
@Module({ imports: [StreamsModule], controllers: [HealthController], providers: [HealthService] })
export class HealthModule {}
