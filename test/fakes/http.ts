/**
 * What the Strava and Garmin fakes share: a node:http server with a small route table, form/JSON
 * bodies, a request log tests can count, injectable faults, and a seeded random generator so every
 * run of a fake holds the same activities.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One answered request, as tests count them (`endpoint` is the route pattern, e.g. `GET /api/v3/activities/:id`). */
export interface FakeRequest {
  method: string;
  endpoint: string;
  path: string;
  query: Record<string, string>;
  status: number;
  /** When the answer was sent (the log is in this order). */
  at: number;
  /** When the request arrived: a request sent while another was being answered arrived before that answer. */
  arrivedAt: number;
  /** The provider user the bearer token belonged to, when there was a valid one. */
  user?: string;
}

/** A fault to inject: answer `status` (and/or wait `delayMs` first) for the matching requests. */
export interface FaultSpec {
  /** Route pattern to match (`GET /api/v3/athlete/activities`); every API route when absent. An OAuth route (`POST /oauth/token`) only when named. */
  endpoint?: string;
  /** Answer this status instead of the real answer (429 and 401 get the provider's own body). */
  status?: number;
  /** Wait this long before answering (a slow provider). */
  delayMs?: number;
  /** How many matching requests the fault applies to (default 1). */
  times?: number;
  /** Only from the Nth matching request on, counting from 1 (`atRequest: 50` → the 50th and later). */
  atRequest?: number;
}

export class Faults {
  private readonly pending: Array<FaultSpec & { seen: number; used: number }> = [];

  add(spec: FaultSpec): void {
    this.pending.push({ ...spec, seen: 0, used: 0 });
  }

  clear(): void {
    this.pending.length = 0;
  }

  /**
   * The fault for this request, if one applies; advances the counters of every matching spec.
   * `named` only matches specs that name this endpoint (routes outside the API, e.g. OAuth).
   */
  take(endpoint: string, named = false): FaultSpec | undefined {
    let hit: FaultSpec | undefined;
    for (const spec of this.pending) {
      if (named ? spec.endpoint !== endpoint : spec.endpoint && spec.endpoint !== endpoint) continue;
      spec.seen += 1;
      if (hit || spec.seen < (spec.atRequest ?? 1) || spec.used >= (spec.times ?? 1)) continue;
      spec.used += 1;
      hit = spec;
    }
    return hit;
  }
}

export interface FakeContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: Record<string, string>;
  /** Query parameters merged with a form or JSON body (providers accept either). */
  input: Record<string, string>;
  rawBody: Buffer;
  endpoint: string;
  /** Set by a handler so the request log says whose request it was. */
  user?: string;
}

export type FakeHandler = (ctx: FakeContext) => Promise<void> | void;

interface Route {
  method: string;
  pattern: string;
  regex: RegExp;
  names: string[];
  handler: FakeHandler;
}

export class FakeRouter {
  private readonly routes: Route[] = [];

  on(method: string, pattern: string, handler: FakeHandler): void {
    const names: string[] = [];
    const source = pattern.replace(/:([a-zA-Z]+)/g, (_, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    this.routes.push({ method, pattern, regex: new RegExp(`^${source}$`), names, handler });
  }

  match(method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const m = route.regex.exec(path);
      if (!m) continue;
      const params = Object.fromEntries(route.names.map((name, i) => [name, decodeURIComponent(m[i + 1])]));
      return { route, params };
    }
    return undefined;
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendStatus(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'content-length': 0 });
  res.end();
}

function parseInput(req: IncomingMessage, raw: Buffer): Record<string, string> {
  if (raw.length === 0) return {};
  const type = req.headers['content-type'] ?? '';
  if (type.includes('application/json')) {
    try {
      const parsed = JSON.parse(raw.toString('utf8')) as unknown;
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
      return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
    } catch {
      return {};
    }
  }
  if (type.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
  return {};
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export interface ListeningFake {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `router` on host:port (port 0 → a free one). Every answered request goes to `log`;
 * `before` runs first and may answer itself (faults, rate limits) by returning true.
 */
export async function listen(options: {
  router: FakeRouter;
  log: FakeRequest[];
  host?: string;
  port?: number;
  before?: (ctx: FakeContext) => Promise<boolean> | boolean;
}): Promise<ListeningFake> {
  const server = createServer((req, res) => {
    const arrivedAt = Date.now();
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const method = req.method ?? 'GET';
      const hit = options.router.match(method, url.pathname);
      const rawBody = await readBody(req);
      const query = Object.fromEntries(url.searchParams);
      const ctx: FakeContext = {
        req,
        res,
        params: hit?.params ?? {},
        query,
        input: { ...query, ...parseInput(req, rawBody) },
        rawBody,
        endpoint: hit ? `${method} ${hit.route.pattern}` : `${method} ${url.pathname}`,
      };
      res.on('finish', () => {
        options.log.push({ method, endpoint: ctx.endpoint, path: url.pathname, query, status: res.statusCode, at: Date.now(), arrivedAt, user: ctx.user });
      });
      try {
        if (options.before && (await options.before(ctx))) return;
        if (!hit) return sendJson(res, 404, { message: 'Record Not Found', errors: [{ resource: 'Path', field: 'path', code: 'invalid' }] });
        await hit.route.handler(ctx);
      } catch (error) {
        if (!res.headersSent) sendJson(res, 500, { message: 'fake provider error', error: String(error) });
        else res.destroy();
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1';
  return {
    server,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** mulberry32: a tiny seeded PRNG, so a seed always yields the same activities. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Counts the log's requests per endpoint pattern. */
export function countRequests(log: FakeRequest[], endpoint?: string): number {
  return endpoint ? log.filter((r) => r.endpoint === endpoint).length : log.length;
}

/** POSTs JSON to a URL and reports what came back (webhook and push delivery). */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: string; ms: number }> {
  const started = performance.now();
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.text(), ms: performance.now() - started };
}
