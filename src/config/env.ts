import * as z from 'zod';

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/** A 32-byte key given as base64. */
const base64Key = z
  .string()
  .refine((value) => /^[A-Za-z0-9+/]+={0,2}$/.test(value.trim()) && Buffer.from(value.trim(), 'base64').length === 32, 'must be 32 bytes, base64 (openssl rand -base64 32)');

/**
 * Every setting the process reads. Environment variables are read here and nowhere else;
 * the parsed result is injected (see config.module.ts).
 */
export const EnvSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().min(1).default('0.0.0.0'),
    PUBLIC_URL: z.url().optional(),
    /** A raster tile server for the web app's route maps ({z}/{x}/{y} in the URL); unset: routes are drawn without tiles. */
    MAP_TILE_URL: z
      .string()
      .regex(/^https?:\/\/[^/]+\/.*\{z\}.*\{x\}.*\{y\}/, 'must be an http(s) URL with {z}, {x} and {y}')
      .optional(),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
    DATABASE_MIGRATE: booleanFlag.default(true),
    DATA_DIR: z.string().min(1).default('./data'),
    /** The embedded database's buffer cache (PostgreSQL's shared_buffers); see pgliteStartParams in database.ts. */
    PGLITE_SHARED_BUFFERS: z
      .string()
      .regex(/^[1-9][0-9]*(kB|MB|GB)$/, 'must be a size in kB, MB or GB, e.g. 16MB')
      .default('16MB'),
    S3_ENDPOINT: z.url().optional(),
    S3_BUCKET: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid bucket name (3-63 lowercase letters, digits, dots, hyphens)')
      .default('activity-streams'),
    S3_ACCESS_KEY: z.string().min(1).optional(),
    S3_SECRET_KEY: z.string().min(1).optional(),
    S3_REGION: z.string().min(1).default('us-east-1'),
    S3_FORCE_PATH_STYLE: booleanFlag.default(true),
    /**
     * Base URL clients use to reach the object store, when it differs from S3_ENDPOINT (compose:
     * the API talks to http://minio:9000, browsers to http://localhost:9000). Presigned download
     * URLs are signed for this host, since the host is part of the signature.
     */
    S3_PUBLIC_ENDPOINT: z.url().optional(),
    /**
     * Whether Fastify believes X-Forwarded-For/-Proto/-Host: `false` (default, direct exposure),
     * `true` (every hop; only behind a proxy that overwrites the header), or a comma-separated
     * list of the proxies' addresses/CIDRs or proxy-addr names (`loopback`, `uniquelocal`,
     * e.g. `10.0.0.0/8`): the client is then the last address not in the list. A bare hop count
     * is refused: Fastify 5 cannot check the immediate peer with one and ignores the header.
     */
    TRUST_PROXY: z
      .string()
      .default('false')
      .refine((value) => !/^\s*[0-9]+\s*$/.test(value) || value.trim() === '0', 'give the proxies\' addresses or CIDRs (or true), not a hop count')
      .transform((value): boolean | string[] => {
        const trimmed = value.trim().toLowerCase();
        if (trimmed === 'true' || trimmed === 'yes') return true;
        if (trimmed === 'false' || trimmed === 'no' || trimmed === '0') return false;
        return value.split(',').map((part) => part.trim()).filter(Boolean);
      }),
    AUTH_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    AUTH_TRUSTED_ORIGINS: z.string().optional(),
    AUTH_RATE_LIMIT: booleanFlag.optional(),
    AUTH_SESSION_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(10),
    /** File-import jobs this process runs at once (0: it only enqueues them; other replicas run them). */
    IMPORT_WORKERS: z.coerce.number().int().min(0).max(16).default(1),
    /**
     * How often an idle job worker (imports, exports, provider work, re-elections) polls its queue, in
     * seconds; unset: 5 on PostgreSQL (where replicas find each other's jobs this way), 60 on the
     * embedded database (this process wakes its workers for its own jobs: src/modules/imports/import-queue.ts).
     */
    JOB_POLL_SECONDS: z.coerce.number().int().min(1).max(3600).optional(),
    /**
     * The heap (old generation, MiB) of a thread decoding imported files; 0: no cap. A file that needs
     * more is decoded again on a thread without it, so the cap bounds memory, never what imports.
     */
    PARSE_THREAD_HEAP_MB: z.coerce
      .number()
      .int()
      .max(65_536)
      .refine((mb) => mb === 0 || mb >= 64, 'must be 0 (no cap) or at least 64 (a thread needs ~30 MiB to load the decoders)')
      .default(128),
    /**
     * Provider connections (README "Connecting Strava and Garmin"). A provider without a client id is
     * not offered. The base URLs exist so tests and self-hosters can point at a fake or a proxy.
     */
    STRAVA_CLIENT_ID: z.string().min(1).optional(),
    STRAVA_CLIENT_SECRET: z.string().min(1).optional(),
    STRAVA_WEBHOOK_VERIFY_TOKEN: z.string().min(1).optional(),
    STRAVA_API_URL: z.url().default('https://www.strava.com/api/v3'),
    STRAVA_OAUTH_URL: z.url().default('https://www.strava.com/oauth'),
    GARMIN_CLIENT_ID: z.string().min(1).optional(),
    GARMIN_CLIENT_SECRET: z.string().min(1).optional(),
    GARMIN_API_URL: z.url().default('https://apis.garmin.com'),
    /** Garmin's OAuth 2.0 PKCE consent page (Garmin Connect Developer Program, "OAuth2 PKCE"). */
    GARMIN_OAUTH_URL: z.url().default('https://connect.garmin.com/oauth2Confirm'),
    /** Garmin's token endpoint (another host than the consent page). */
    GARMIN_TOKEN_URL: z.url().default('https://diauth.garmin.com/di-oauth2-service/oauth/token'),
    /** How far back a new Garmin connection's history is requested, in days (in windows of at most 90 days). */
    GARMIN_BACKFILL_DAYS: z.coerce.number().int().min(0).max(3650).default(730),
    /** Garmin pushes one address may send per minute before 429 (per process). */
    GARMIN_PUSH_RATE_LIMIT: z.coerce.number().int().min(1).default(600),
    /** Provider work (backfill pages, activity fetches, webhook events) this process runs at once (0: none here). */
    CONNECTION_WORKERS: z.coerce.number().int().min(0).max(16).default(2),
    /**
     * The provider rate-limit windows, ms (Strava: 15 minutes and a day). Only for simulating time
     * faster (bench:backfill, tests), together with the fake provider's own windows.
     */
    PROVIDER_RATE_WINDOW_MS: z.coerce.number().int().min(100).default(900_000),
    PROVIDER_RATE_DAY_MS: z.coerce.number().int().min(100).default(86_400_000),
    /** 32 bytes, base64: encrypts provider tokens at rest (AES-256-GCM). */
    TOKEN_ENCRYPTION_KEY: base64Key.optional(),
    /** The key before the last rotation: still decrypts, never encrypts. */
    TOKEN_ENCRYPTION_KEY_PREVIOUS: base64Key.optional(),
    /**
     * Most threads encoding and decoding large streams at once (StreamWorkerPool); by default one less
     * than the CPUs, at least 1 and at most 4. None starts before a stream is large enough to need one.
     */
    STREAM_WORKERS: z.coerce.number().int().min(1).max(16).optional(),
    /**
     * Whether writes (create, update, delete, sync batches, imports) group duplicates across sources
     * (docs/data-model.md, "Duplicates across sources"). `false` leaves existing groups as they are
     * and groups nothing new: for measuring ingest without detection (bench:ingest).
     */
    DUPLICATE_DETECTION: booleanFlag.default(true),
    /**
     * A source-priority change re-elects the primaries of an athlete with at most this many duplicate
     * groups inline (PUT answers how many changed); more go to a job (README, "Duplicates across sources").
     */
    DUPLICATE_REELECTION_INLINE_MAX: z.coerce.number().int().min(0).default(2000),
    /**
     * How long the change feed keeps a change (README "Following changes"); an older cursor answers
     * 410 CURSOR_EXPIRED. Fractions of a day are allowed (tests use seconds).
     */
    CHANGE_RETENTION_DAYS: z.coerce.number().positive().max(3650).default(90),
    /**
     * Outbound webhooks (README "Following changes"). Targets on private, loopback, link-local, CGNAT,
     * multicast or IPv6 unique-local addresses are refused unless this is true (tests, private networks).
     */
    WEBHOOK_ALLOW_PRIVATE_TARGETS: booleanFlag.default(false),
    /** Whether this process sends webhook deliveries (every replica may; they share the work). */
    WEBHOOK_DISPATCH: booleanFlag.default(true),
    /** How often the dispatcher looks for new changes and due deliveries, in ms. */
    WEBHOOK_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
    /** The first retry's delay in ms; each further one doubles it (with jitter), up to WEBHOOK_RETRY_MAX_MS. */
    WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(1).default(30_000),
    WEBHOOK_RETRY_MAX_MS: z.coerce.number().int().min(1).default(60 * 60 * 1000),
    /** How long a delivery is retried before it is given up and its endpoint disabled, in ms (24 h). */
    WEBHOOK_RETRY_WINDOW_MS: z.coerce.number().int().min(1).default(24 * 60 * 60 * 1000),
    /** How long one delivery may take (connect to last byte read), in ms. */
    WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine((env, ctx) => {
    if (env.S3_ENDPOINT && (!env.S3_ACCESS_KEY || !env.S3_SECRET_KEY)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.S3_ACCESS_KEY ? 'S3_SECRET_KEY' : 'S3_ACCESS_KEY'],
        message: 'is required when S3_ENDPOINT is set',
      });
    }
    if (env.NODE_ENV === 'production' && !env.AUTH_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['AUTH_SECRET'], message: 'is required in production' });
    }
    for (const provider of ['STRAVA', 'GARMIN'] as const) {
      if (env[`${provider}_CLIENT_ID`] && !env[`${provider}_CLIENT_SECRET`]) {
        ctx.addIssue({ code: 'custom', path: [`${provider}_CLIENT_SECRET`], message: `is required when ${provider}_CLIENT_ID is set` });
      }
    }
    if (env.NODE_ENV === 'production' && (env.STRAVA_CLIENT_ID || env.GARMIN_CLIENT_ID) && !env.TOKEN_ENCRYPTION_KEY) {
      ctx.addIssue({ code: 'custom', path: ['TOKEN_ENCRYPTION_KEY'], message: 'is required in production when a provider is configured' });
    }
  });

export type Env = z.output<typeof EnvSchema>;

export class ConfigError extends Error {
  constructor(readonly setting: string, detail: string) {
    super(`Invalid configuration: ${setting}: ${detail}`);
  }
}

/** Parses the environment; throws a ConfigError naming the first bad setting. */
export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
  // Empty strings (e.g. `FOO=` in a compose file) mean "unset", not "invalid".
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ''));
  const result = EnvSchema.safeParse(cleaned);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const setting = String(issue.path[0] ?? 'environment');
  throw new ConfigError(setting, issue.message);
}
