/**
 * The public API contract: the single source of truth for REST paths, the OpenAPI document and the
 * RPC client types. Clients import it from the package (`import { contract } from '@unified-activity/contract'`).
 */
import { activitiesContract } from './activities.contract.js';
import { activityTypesContract } from './activity-types.contract.js';
import { athletesContract } from './athletes.contract.js';
import { changesContract } from './changes.contract.js';
import { webhooksContract } from './webhooks.contract.js';
import { connectionsContract, providerWebhooksContract } from './connections.contract.js';
import { importsContract } from './imports.contract.js';
import { originalsContract } from './originals.contract.js';
import { exportsContract } from './exports.contract.js';
import { reprocessContract } from './reprocess.contract.js';
import { streamsContract } from './streams.contract.js';
import { syncContract } from './sync.contract.js';

export const contract = {
  activityTypes: activityTypesContract,
  athletes: athletesContract,
  activities: activitiesContract,
  streams: streamsContract,
  sync: syncContract,
  imports: importsContract,
  connections: connectionsContract,
  changes: changesContract,
  webhooks: webhooksContract,
  providerWebhooks: providerWebhooksContract,
  originals: originalsContract,
  exports: exportsContract,
  reprocess: reprocessContract,
};

export type Contract = typeof contract;
export * from './catalog.js';
export * from './activity-type.js';
export * from './common.js';
export * from './errors.js';
export * from './athletes.contract.js';
export * from './activity-types.contract.js';
export * from './activities.contract.js';
export * from './duplicates.contract.js';
export * from './streams.contract.js';
export * from './sync.contract.js';
export * from './provider-payloads.js';
export * from './imports.contract.js';
export * from './connections.contract.js';
export * from './changes.contract.js';
export * from './webhooks.contract.js';
export * from './originals.contract.js';
export * from './exports.contract.js';
export * from './reprocess.contract.js';
export * from './statistics.js';
