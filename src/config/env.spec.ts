import { describe, expect, it } from '@jest/globals';
import { ConfigError, parseEnv } from './env.js';

describe('parseEnv', () => {
  it('gives the embedded defaults when nothing is set', () => {
    const env = parseEnv({});
    expect(env).toMatchObject({ PORT: 3000, DATA_DIR: './data', LOG_LEVEL: 'info', DATABASE_MIGRATE: true });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.S3_ENDPOINT).toBeUndefined();
  });

  it('treats empty strings as unset', () => {
    expect(parseEnv({ DATABASE_URL: '', PORT: '' }).PORT).toBe(3000);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://localhost/db' }, 'DATABASE_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ S3_ENDPOINT: 'not a url' }, 'S3_ENDPOINT'],
    [{ S3_ENDPOINT: 'http://127.0.0.1:9000' }, 'S3_ACCESS_KEY'],
    [{ S3_ENDPOINT: 'http://127.0.0.1:9000', S3_ACCESS_KEY: 'k' }, 'S3_SECRET_KEY'],
    [{ S3_BUCKET: 'No_Such Bucket' }, 'S3_BUCKET'],
    [{ S3_FORCE_PATH_STYLE: 'maybe' }, 'S3_FORCE_PATH_STYLE'],
    [{ AUTH_SECRET: 'short' }, 'AUTH_SECRET'],
    [{ NODE_ENV: 'production' }, 'AUTH_SECRET'],
    [{ TRUST_PROXY: '2' }, 'TRUST_PROXY'],
    [{ S3_PUBLIC_ENDPOINT: 'minio 9000' }, 'S3_PUBLIC_ENDPOINT'],
    [{ STREAM_WORKERS: '0' }, 'STREAM_WORKERS'],
    [{ PARSE_THREAD_HEAP_MB: '32' }, 'PARSE_THREAD_HEAP_MB'],
    [{ PARSE_THREAD_HEAP_MB: '-1' }, 'PARSE_THREAD_HEAP_MB'],
    [{ PGLITE_SHARED_BUFFERS: '16' }, 'PGLITE_SHARED_BUFFERS'],
    [{ PGLITE_SHARED_BUFFERS: '16 MB' }, 'PGLITE_SHARED_BUFFERS'],
  ])('rejects %j with one message naming %s', (source, setting) => {
    let caught: unknown;
    try {
      parseEnv(source);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.setting).toBe(setting);
    expect(error.message).toMatch(new RegExp(`^Invalid configuration: ${setting}: `));
    expect(error.message).not.toContain('\n');
  });

  it('reads the footprint knobs: STREAM_WORKERS (unset: the pool decides), PGLITE_SHARED_BUFFERS (16MB), PARSE_THREAD_HEAP_MB (128; 0 is no cap)', () => {
    const defaults = parseEnv({});
    expect(defaults.STREAM_WORKERS).toBeUndefined();
    expect(defaults.PGLITE_SHARED_BUFFERS).toBe('16MB');
    expect(defaults.PARSE_THREAD_HEAP_MB).toBe(128);
    expect(parseEnv({ PARSE_THREAD_HEAP_MB: '0' }).PARSE_THREAD_HEAP_MB).toBe(0);
    expect(parseEnv({ STREAM_WORKERS: '2', PGLITE_SHARED_BUFFERS: '64MB' })).toMatchObject({ STREAM_WORKERS: 2, PGLITE_SHARED_BUFFERS: '64MB' });
  });

  it('parses the S3 settings', () => {
    const env = parseEnv({
      S3_ENDPOINT: 'https://s3.example.com',
      S3_ACCESS_KEY: 'key',
      S3_SECRET_KEY: 'secret',
      S3_FORCE_PATH_STYLE: 'false',
      S3_BUCKET: 'my-streams',
    });
    expect(env).toMatchObject({ S3_FORCE_PATH_STYLE: false, S3_BUCKET: 'my-streams', S3_REGION: 'us-east-1' });
  });

  it('reads TRUST_PROXY as false, true, or a list of proxy addresses', () => {
    expect(parseEnv({}).TRUST_PROXY).toBe(false);
    expect(parseEnv({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(true);
    expect(parseEnv({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).TRUST_PROXY).toEqual(['loopback', '10.0.0.0/8']);
  });
});
