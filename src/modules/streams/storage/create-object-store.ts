import { resolve } from 'node:path';
import type { Env } from '../../../config/env.js';
import { LocalObjectStore } from './local-object-store.js';
import { MinioObjectStore } from './minio-object-store.js';
import type { ObjectStore } from './object-store.js';

/** S3 when S3_ENDPOINT is set, otherwise a folder under DATA_DIR (development, single-node setups). */
export function createObjectStore(env: Env): ObjectStore {
  if (env.S3_ENDPOINT) {
    // EnvSchema already requires both keys whenever S3_ENDPOINT is set.
    if (!env.S3_ACCESS_KEY || !env.S3_SECRET_KEY) throw new Error('S3_ACCESS_KEY and S3_SECRET_KEY are required with S3_ENDPOINT');
    return new MinioObjectStore({
      endpoint: env.S3_ENDPOINT,
      bucket: env.S3_BUCKET,
      accessKey: env.S3_ACCESS_KEY,
      secretKey: env.S3_SECRET_KEY,
      region: env.S3_REGION,
      pathStyle: env.S3_FORCE_PATH_STYLE,
      publicEndpoint: env.S3_PUBLIC_ENDPOINT,
    });
  }
  return new LocalObjectStore({ dataDir: resolve(env.DATA_DIR), bucket: env.S3_BUCKET });
}
