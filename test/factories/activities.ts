import type * as z from 'zod';
import type { ActivityCreateSchema } from '@unified-activity/contract';
import type { TestApp } from '../setup/app.js';
import type { SignedUpUser } from './api.js';

/** A request body for POST /api/v1/activities, as the API accepts it on the wire (ISO strings for times). */
export type ActivityBody = z.input<typeof ActivityCreateSchema> & { startTime: string; endTime: string };

export function runBody(athleteId: string, overrides: Partial<ActivityBody> = {}): ActivityBody {
  return {
    athleteId,
    activityType: 'running',
    startTime: '2026-05-01T06:00:00.000Z',
    endTime: '2026-05-01T07:00:00.000Z',
    ...overrides,
  };
}

/** Creates an activity through the API and returns its detail body. */
export async function createActivity(t: TestApp, user: SignedUpUser, overrides: Partial<ActivityBody> = {}) {
  const response = await t.http().post('/api/v1/activities').set(user.auth).send(runBody(user.athleteId, overrides));
  if (response.status !== 201) throw new Error(`create failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body as { id: string; [key: string]: unknown };
}
