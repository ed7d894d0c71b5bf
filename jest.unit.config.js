/**
 * `npm run test:unit`: the unit tier alone — the colocated specs of src/ and libs/, pure logic with
 * no database, object store or app (test/ holds the integration and e2e tiers). No globalSetup:
 * nothing here may touch TEST_DATABASE_URL's database, so the tier runs beside another `npm test`.
 * Scale tests (`*.scale.spec.ts`: millions of records, hundreds of MB) run in `npm test` only.
 */
import base from './jest.config.js';

export default {
  ...base,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/libs/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '\\.scale\\.spec\\.ts$'],
  globalSetup: undefined,
};
