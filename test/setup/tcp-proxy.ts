import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  /** The proxy's own port on 127.0.0.1. */
  port: number;
  /** Cuts the line as an outage would: open connections are destroyed, new ones are refused. */
  cut(): Promise<void>;
  /**
   * A host that stopped answering: open connections are destroyed, new ones are accepted and then
   * never answered (a client waits for its own timeout). `restore()` relays again.
   */
  stall(): Promise<void>;
  /** Listens again on the same port, relaying again. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A byte-for-byte TCP relay to `target` that a test can cut and restore, to take a dependency
 * (PostgreSQL, S3) away from the code under test without stopping the shared service itself.
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  let stalled = false;

  const listen = async (): Promise<void> => {
    const next = createServer((client) => {
      if (stalled) {
        sockets.add(client);
        client.on('error', () => undefined).on('close', () => sockets.delete(client));
        return;
      }
      const upstream = connect(target.port, target.host);
      sockets.add(client);
      sockets.add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => resolve());
    });
    port = (next.address() as AddressInfo).port;
    server = next;
  };

  const cut = async (): Promise<void> => {
    const current = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    if (current) await new Promise<void>((resolve) => current.close(() => resolve()));
  };

  await listen();
  return {
    port,
    cut,
    async stall() {
      stalled = true;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      if (!server) await listen();
    },
    async restore() {
      stalled = false;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      if (!server) await listen();
    },
    close: cut,
  };
}

export interface CuttingTcpProxy {
  /** `http://127.0.0.1:<port>`: the proxy's own address, for an S3 endpoint. */
  endpoint: string;
  /** How many connections the proxy has cut. */
  readonly cuts: number;
  close(): Promise<void>;
}

/**
 * A TCP relay to `target` that shows every chunk a client sends to the inspector of its connection
 * (`inspect()` is called once per connection, so it can keep that connection's state) before
 * passing it on; when the inspector answers true, the connection is cut instead: a dependency
 * failing at a chosen request, or part way through one, as seen on the wire.
 */
export async function startCuttingTcpProxy(target: { host: string; port: number }, inspect: () => (chunk: Buffer) => boolean): Promise<CuttingTcpProxy> {
  let cuts = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    const cutHere = inspect();
    client.on('data', (chunk: Buffer) => {
      if (cutHere(chunk)) {
        cuts++;
        client.destroy();
        upstream.destroy();
        return;
      }
      upstream.write(chunk);
    });
    upstream.pipe(client);
    for (const socket of [client, upstream]) {
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        (socket === client ? upstream : client).destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get cuts() {
      return cuts;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A proxy in front of the database at `databaseUrl`, and the same URL pointed at the proxy. */
export async function startDatabaseProxy(databaseUrl: string): Promise<{ proxy: TcpProxy; url: string }> {
  const target = new URL(databaseUrl);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const viaProxy = new URL(databaseUrl);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  return { proxy, url: viaProxy.toString() };
}
