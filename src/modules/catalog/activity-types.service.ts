import { Injectable } from '@nestjs/common';
import { ORPCError } from '@orpc/server';
import type { UnknownActivityTypeData } from '@unified-activity/contract';
import {
  activityTypeBySlug,
  activityTypes,
  nearestSlugs,
  type ActivityCategory,
  type ActivityType,
} from '../../../libs/seed-data/activity-types.js';

/** The activity-type catalog, served from the validated JSON in memory (it never changes at run time). */
@Injectable()
export class ActivityTypesService {
  list(filter: { category?: ActivityCategory; tier?: 1 | 2 }) {
    const items = activityTypes.filter(
      (type) => (!filter.category || type.category === filter.category) && (!filter.tier || type.tier === filter.tier),
    );
    return { items: [...items], nextCursor: null };
  }

  get(slug: string): ActivityType {
    const type = activityTypeBySlug.get(slug);
    if (!type) {
      throw new ORPCError('NOT_FOUND', {
        message: `Unknown activity type "${slug}"`,
        data: { suggestions: nearestSlugs(slug) } satisfies UnknownActivityTypeData,
      });
    }
    return type;
  }

  /** For writes: an unknown slug is a 422 naming the nearest valid slugs, at the field that holds it. */
  assertKnown(slug: string, path: (string | number)[]): void {
    if (activityTypeBySlug.has(slug)) return;
    const suggestions = nearestSlugs(slug);
    throw new ORPCError('UNPROCESSABLE_CONTENT', {
      message: `Unknown activity type "${slug}"`,
      data: {
        issues: [{ path, message: `not a catalog slug; did you mean ${suggestions.map((s) => `"${s}"`).join(', ')}?` }],
        suggestions,
      },
    });
  }
}
