import { Injectable } from '@nestjs/common';
import { os } from '../api/orpc.js';
import { ActivityTypesService } from './activity-types.service.js';

@Injectable()
export class ActivityTypesRouter {
  constructor(private readonly types: ActivityTypesService) {}

  readonly procedures = {
    list: os.activityTypes.list.handler(({ input }) => this.types.list(input)),
    get: os.activityTypes.get.handler(({ input }) => this.types.get(input.slug)),
  };
}
