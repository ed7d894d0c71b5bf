import { Module } from '@nestjs/common';
import { AthletesModule } from '../athletes/athletes.module.js';
import { CatalogModule } from '../catalog/catalog.module.js';
import { ApiService } from './api.service.js';

@Module({ imports: [AthletesModule, CatalogModule], providers: [ApiService], exports: [ApiService] })
export class ApiModule {}
