/**
 * The public API contract: the single source of truth for REST paths, the OpenAPI document and the
 * RPC client types. Clients import it from here (`import { contract } from '<pkg>/contract'`).
 */
import { activityTypesContract } from './activity-types.contract.js';
import { athletesContract } from './athletes.contract.js';

export const contract = {
  activityTypes: activityTypesContract,
  athletes: athletesContract,
};

export type Contract = typeof contract;
export * from './common.js';
export * from './athletes.contract.js';
export * from './activity-types.contract.js';
