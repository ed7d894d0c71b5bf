import { describe, expect, it } from '@jest/globals';
import { activityTypeFromText } from './activity-type-text.js';

describe('activityTypeFromText', () => {
  it.each([
    ['running', 'running'],
    ['Trail Running', 'trail_running'],
    ['Run', 'running'],
    ['road_biking', 'road_cycling'],
    ['VirtualRide', 'virtual_cycling'],
    ['MountainBikeRide', 'mountain_biking'],
    ['swimming', 'swimming'],
    ['9', 'other'],
    ['juggling', 'other'],
  ])('%s → %s', (text, slug) => {
    expect(activityTypeFromText(text).slug).toBe(slug);
  });
});
