import { createHmac, timingSafeEqual } from 'node:crypto';
import { eq, getTableColumns, sql } from 'drizzle-orm';
import type { Database } from '../../database/database.js';
import { session as sessionTable, user as userTable } from '../../database/schema/auth.js';
import type { Auth, AuthSession } from './auth.js';

interface Entry {
  session: AuthSession;
  expiresAt: number;
}

const BEARER = /^bearer\s+(\S+)\s*$/i;

/**
 * Resolves the session of a request, cheaply.
 *
 * A bearer token is resolved by one indexed query (session.token is unique) joined to its user,
 * after checking the token's HMAC signature the way better-auth's bearer plugin does (an unsigned
 * token is accepted as the plugin accepts it, `requireSignature` being off). This is what
 * better-auth's getSession does too, without its ~2 ms of CPU per call. Whenever better-auth would
 * do more than read — the session is expired (it deletes it) or due for its sliding refresh
 * (updateAge) — the request goes through getSession instead, and so does every cookie-only request.
 * Revocation is unchanged: sign-out deletes the session row, and the next lookup finds nothing.
 *
 * On top, resolved sessions can be remembered for a few seconds (`ttlMs`, AUTH_SESSION_CACHE_SECONDS),
 * keyed by the credentials. Sign-out through this process evicts at once; a session revoked
 * elsewhere stays usable here for at most `ttlMs`. With ttlMs = 0 every request reads the table.
 */
export class SessionCache {
  private readonly entries = new Map<string, Entry>();
  private readonly prepared;
  private context?: Promise<{ secret: string; expiresInMs: number; updateAgeMs: number }>;

  constructor(
    private readonly auth: Auth,
    private readonly ttlMs = 10_000,
    db?: Database,
    private readonly maxEntries = 10_000,
  ) {
    this.prepared = db
      ?.select({ session: getTableColumns(sessionTable), user: getTableColumns(userTable) })
      .from(sessionTable)
      .innerJoin(userTable, eq(userTable.id, sessionTable.userId))
      .where(eq(sessionTable.token, sql.placeholder('token')))
      .limit(1)
      .prepare('session_by_token');
  }

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
    const session = await this.resolve(headers);
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

  private async resolve(headers: Headers): Promise<AuthSession | null> {
    const bearer = BEARER.exec(headers.get('authorization') ?? '')?.[1];
    if (!bearer || !this.prepared) return this.auth.api.getSession({ headers });
    const { secret, expiresInMs, updateAgeMs } = await (this.context ??= this.loadContext());
    const token = verifiedToken(bearer, secret);
    if (!token) return this.auth.api.getSession({ headers });
    const [row] = await this.prepared.execute({ token });
    if (!row) return null;
    const expiresAt = row.session.expiresAt.getTime();
    const now = Date.now();
    // Expired (better-auth deletes it) or due for the sliding refresh: let better-auth do that.
    if (expiresAt <= now || expiresAt - expiresInMs + updateAgeMs <= now) return this.auth.api.getSession({ headers });
    return row as unknown as AuthSession;
  }

  private async loadContext() {
    const context = await this.auth.$context;
    return {
      secret: context.secret,
      expiresInMs: context.sessionConfig.expiresIn * 1000,
      updateAgeMs: context.sessionConfig.updateAge * 1000,
    };
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

/**
 * The session token a bearer credential carries, if its signature is right: `token.signature`
 * (HMAC-SHA256 of the token in base64 — Node decodes either alphabet, padded or not — as better-auth
 * signs its session cookie),
 * percent-encoded or not; a bare token is taken as is (better-auth's bearer plugin signs it itself).
 * Undefined for a bad signature — better-auth then decides, and refuses it.
 */
function verifiedToken(credential: string, secret: string): string | undefined {
  let decoded = credential;
  if (decoded.includes('%')) {
    try {
      decoded = decodeURIComponent(decoded);
    } catch {
      return undefined;
    }
  }
  const dot = decoded.indexOf('.');
  if (dot < 0) return decoded;
  const token = decoded.slice(0, dot);
  const signature = Buffer.from(decoded.slice(dot + 1), 'base64');
  const expected = createHmac('sha256', secret).update(token).digest();
  return signature.length === expected.length && timingSafeEqual(signature, expected) ? token : undefined;
}
