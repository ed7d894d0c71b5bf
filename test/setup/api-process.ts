import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Compiles dist/ as `npm start` would (incremental: a few seconds when it is up to date).
 * .ci/run builds once before the suite and sets API_DIST_BUILT=true, so that test files running
 * in parallel do not rewrite dist/ under each other's servers.
 */
export function ensureBuilt(): void {
  if (process.env.API_DIST_BUILT === 'true') return;
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'pipe', timeout: 300_000 });
}

export interface ApiProcess {
  url: string;
  port: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  stop(): Promise<void>;
  /** Stops and starts it again with the same environment (and port). */
  restart(): Promise<void>;
}

/**
 * The compiled server (`node dist/src/main.js`, as the image runs it) as a child process on a
 * port of its own, for tests that need several replicas or a real process's logs.
 */
export async function startApiProcess(env: Record<string, string>): Promise<ApiProcess> {
  let child: ChildProcess | undefined;
  let output = '';
  let port = 0;

  const start = async (): Promise<void> => {
    const proc = spawn(process.execPath, ['dist/src/main.js'], {
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    const listening = new Promise<number>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(output.slice(-4000));
        if (match) resolve(Number(match[1]));
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      proc.once('exit', (code) => reject(new Error(`API process exited with ${code}:\n${output}`)));
      setTimeout(() => reject(new Error(`API process did not start within 60 s:\n${output}`)), 60_000).unref();
    });
    port = await listening;
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    output: () => output,
    stop,
    async restart() {
      await stop();
      await start();
    },
  };
}

export interface ForwardingProxy {
  url: string;
  close(): Promise<void>;
}

/**
 * A tiny reverse proxy in front of several replicas, as a load balancer would be: the test picks
 * the replica with `x-test-backend: <index>` and the client address with `x-test-client`, which
 * the proxy sends as X-Forwarded-For (replacing whatever the client sent).
 */
export async function startForwardingProxy(backends: () => string[]): Promise<ForwardingProxy> {
  const server: Server = createServer((req, res) => {
    const index = Number(req.headers['x-test-backend'] ?? 0);
    const target = new URL(backends()[index]!);
    const headers: IncomingHttpHeaders = { ...req.headers };
    headers['x-forwarded-for'] = String(req.headers['x-test-client'] ?? req.socket.remoteAddress);
    delete headers['x-test-backend'];
    delete headers['x-test-client'];
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      (response) => {
        res.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(res);
      },
    );
    upstream.on('error', () => {
      res.writeHead(502).end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
