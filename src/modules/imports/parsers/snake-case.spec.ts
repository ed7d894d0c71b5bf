import { describe, expect, it } from '@jest/globals';
import { snakeCase } from './snake-case.js';

describe('snakeCase', () => {
  it('turns the SDK’s camelCase enum names into the profile’s snake_case', () => {
    expect(snakeCase('lapSwimming')).toBe('lap_swimming');
    expect(snakeCase('eBikeFitness')).toBe('e_bike_fitness');
    expect(snakeCase('trail')).toBe('trail');
  });
});
