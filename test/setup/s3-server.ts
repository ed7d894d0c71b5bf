import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTcpProxy } from './tcp-proxy.js';

/** The part of s3rver 3.7.1 used here; the package ships no type declarations. */
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
}
type S3rverConstructor = new (options: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  resetOnClose: boolean;
  vhostBuckets: boolean;
}) => S3rverInstance;

const require = createRequire(import.meta.url);
const S3rver = require('s3rver') as S3rverConstructor;

export interface S3TestServer {
  /** Which service answers: Ceph RGW (verifies SigV4, see scripts/rgw) or the in-process s3rver. */
  kind: 'rgw' | 's3rver';
  /** e.g. http://127.0.0.1:41234, for S3_ENDPOINT. */
  endpoint: string;
  port: number;
  /** s3rver accepts only S3RVER/S3RVER and never checks the signature (STACK-NOTES §6); RGW checks both. */
  accessKey: string;
  secretKey: string;
  /** Stops answering, as in an outage: new connections are refused and open ones are cut. Buckets and objects are kept. */
  stop(): Promise<void>;
  /** Serves again on the same port with the same buckets and objects (stops first if running). */
  restart(): Promise<void>;
  /** Stops and deletes the server's data folder: call it once, in afterAll (stop() alone leaves the folder behind). */
  close(): Promise<void>;
}

export interface StartS3ServerOptions {
  /**
   * Force the in-process s3rver, for tests of behaviour only s3rver shows (it answers the first
   * DeleteObjects with 500, and lacks multipart); everything else runs on RGW when it is there.
   */
  implementation?: 's3rver';
}

/**
 * With TEST_S3_ENDPOINT set (`.ci/run` starts Ceph RGW with scripts/rgw/start-rgw.sh and sets it,
 * with TEST_S3_ACCESS_KEY / TEST_S3_SECRET_KEY), a real signature-checking S3 service reached
 * through a TCP proxy of this test's own, so that stop() and restart() cut and restore the line as
 * an outage would (the shared RGW keeps running and keeps its objects). Otherwise an in-process
 * s3rver on a free 127.0.0.1 port, storing into its own temp folder.
 */
export async function startS3Server(options: StartS3ServerOptions = {}): Promise<S3TestServer> {
  const rgw = process.env.TEST_S3_ENDPOINT;
  if (rgw && options.implementation !== 's3rver') return startRgwProxy(rgw);
  return startS3rver();
}

async function startRgwProxy(endpoint: string): Promise<S3TestServer> {
  const url = new URL(endpoint);
  const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 80) });
  return {
    kind: 'rgw',
    endpoint: `http://127.0.0.1:${proxy.port}`,
    port: proxy.port,
    accessKey: process.env.TEST_S3_ACCESS_KEY ?? 'AKIATESTTESTTEST0001',
    secretKey: process.env.TEST_S3_SECRET_KEY ?? 'testsecretkey0000000000000000000000000001',
    stop: () => proxy.cut(),
    async restart() {
      await proxy.cut();
      await proxy.restore();
    },
    close: () => proxy.close(),
  };
}

async function startS3rver(): Promise<S3TestServer> {
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  let running: S3rverInstance | undefined;
  let port = 0;

  const start = async (): Promise<void> => {
    // A fresh instance each time: s3rver closes its logger when its HTTP server closes.
    const server = new S3rver({
      address: '127.0.0.1',
      port,
      silent: true,
      directory,
      resetOnClose: false,
      vhostBuckets: false,
    });
    port = (await server.run()).port;
    running = server;
  };

  const stop = async (): Promise<void> => {
    const server = running;
    if (!server) return;
    running = undefined;
    const closed = server.close();
    // close() alone waits for busy keep-alive connections; an outage does not.
    server.httpServer?.closeAllConnections();
    await closed;
  };

  const removeDirectory = (): Promise<void> => rm(directory, { recursive: true, force: true });

  try {
    await start();
  } catch (error) {
    await removeDirectory();
    throw error;
  }

  return {
    kind: 's3rver',
    endpoint: `http://127.0.0.1:${port}`,
    port,
    accessKey: 'S3RVER',
    secretKey: 'S3RVER',
    stop,
    async restart() {
      await stop();
      await start();
    },
    async close() {
      await stop();
      await removeDirectory();
    },
  };
}
