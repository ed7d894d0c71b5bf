import postgres from 'postgres';

/** Channel the triggers of migration 0003 notify on; the payload is the user id. */
export const SESSION_CHANGED_CHANNEL = 'auth_session_changed';

export interface SessionCacheEvictor {
  /** Forget every cached session of this user. */
  evictUser(userId: string): void;
  /** Forget everything (the notification stream was interrupted: changes may have been missed). */
  clear(): void;
}

/**
 * Tells this replica's session cache about session changes made by any replica: PostgreSQL
 * triggers NOTIFY on every session deletion and password change, and this class LISTENs on one
 * dedicated connection. A notification arrives within milliseconds; when the listening
 * connection drops, the cache is cleared on reconnect (postgres.js re-LISTENs by itself), so a
 * missed notification costs at most the cache lifetime (AUTH_SESSION_CACHE_SECONDS) — the bound.
 */
export class SessionRevocations {
  private client: postgres.Sql | undefined;
  private subscription: { unlisten(): Promise<void> } | undefined;

  constructor(private readonly databaseUrl: string) {}

  async start(cache: SessionCacheEvictor, onError: (message: string) => void): Promise<void> {
    this.client = postgres(this.databaseUrl, { max: 1, onnotice: () => undefined });
    let listening = false;
    try {
      this.subscription = await this.client.listen(
        SESSION_CHANGED_CHANNEL,
        (userId) => (userId ? cache.evictUser(userId) : cache.clear()),
        () => {
          // Called on the first LISTEN and on every re-LISTEN after a lost connection.
          if (listening) cache.clear();
          listening = true;
        },
      );
    } catch (error) {
      // The database is down at boot: requests answer 503 until it is back; postgres.js does not
      // retry a failed first LISTEN, so try again shortly.
      onError(`Session change notifications unavailable: ${error instanceof Error ? error.message : String(error)}`);
      await this.client.end({ timeout: 1 }).catch(() => undefined);
      this.client = undefined;
      this.retry = setTimeout(() => void this.start(cache, onError), 2_000);
      this.retry.unref();
    }
  }

  private retry: NodeJS.Timeout | undefined;

  async stop(): Promise<void> {
    if (this.retry) clearTimeout(this.retry);
    await this.subscription?.unlisten().catch(() => undefined);
    await this.client?.end({ timeout: 1 }).catch(() => undefined);
  }
}
