import { Module } from '@nestjs/common';
import { ActivityTypesRouter } from './activity-types.router.js';
import { ActivityTypesService } from './activity-types.service.js';

@Module({ providers: [ActivityTypesService, ActivityTypesRouter], exports: [ActivityTypesService, ActivityTypesRouter] })
export class CatalogModule {}
