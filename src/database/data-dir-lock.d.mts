/** Types of data-dir-lock.mjs (plain JavaScript so that scripts/db-schema.mjs runs it without a build). */
export interface DataDirLockHolder {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
  bootId?: string;
  processStart?: string;
  token: string;
}

export declare class DataDirLockedError extends Error {
  readonly folder: string;
  /** The lock file, e.g. data/pglite.lock. */
  readonly file: string;
  /** Undefined while the holder has not written its name yet. */
  readonly holder: DataDirLockHolder | undefined;
}

export interface DataDirLock {
  readonly file: string;
  release(): void;
}

/** Takes the lock of an embedded database folder, or throws DataDirLockedError naming its holder. */
export declare function lockDataDir(folder: string, description?: string): DataDirLock;
