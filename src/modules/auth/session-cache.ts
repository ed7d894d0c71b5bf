import type { Auth, AuthSession } from './auth.js';

interface Entry {
  session: AuthSession;
  expiresAt: number;
}

/**
 * Remembers resolved sessions for a few seconds, keyed by the credentials that resolved them.
 * better-auth's getSession verifies the token signature and reads the session and user on every
 * call (~2 ms of CPU); an API client sends many requests with one token. Sign-out through this
 * process evicts at once; a session revoked elsewhere stays usable here for at most `ttlMs`.
 */
export class SessionCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly auth: Auth,
    private readonly ttlMs = 10_000,
    private readonly maxEntries = 10_000,
  ) {}

  static key(headers: Headers): string | undefined {
    const authorization = headers.get('authorization');
    const cookie = headers.get('cookie');
    return authorization || cookie ? `${authorization ?? ''}\n${cookie ?? ''}` : undefined;
  }

  async get(headers: Headers): Promise<AuthSession | null> {
    const key = SessionCache.key(headers);
    if (!key) return null;
    const now = Date.now();
    const cached = this.entries.get(key);
    if (cached && cached.expiresAt > now) return cached.session;
    const session = await this.auth.api.getSession({ headers });
    if (!session || this.ttlMs <= 0) return session;
    if (this.entries.size >= this.maxEntries) this.evictExpired(now);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    const sessionEnd = new Date(session.session.expiresAt).getTime();
    this.entries.set(key, { session, expiresAt: Math.min(now + this.ttlMs, sessionEnd) });
    return session;
  }

  /** Forgets every cached session of the user these credentials belong to (sign-out, deletion). */
  evict(headers: Headers): void {
    const key = SessionCache.key(headers);
    const userId = key ? this.entries.get(key)?.session.user.id : undefined;
    if (key) this.entries.delete(key);
    if (!userId) return;
    for (const [other, entry] of this.entries) if (entry.session.user.id === userId) this.entries.delete(other);
  }

  /** Forgets every cached session of one user (called by SessionRevocations on a change anywhere). */
  evictUser(userId: string): void {
    for (const [key, entry] of this.entries) if (entry.session.user.id === userId) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  private evictExpired(now: number): void {
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}
