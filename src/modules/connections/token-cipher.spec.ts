import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from '../../config/env.js';
import { resolveTokenCipher, TokenCipher } from './token-cipher.js';

describe('TokenCipher', () => {
  const key = randomBytes(32);

  it('opens what it sealed, and the ciphertext does not contain the token', () => {
    const cipher = new TokenCipher(key);
    const sealed = cipher.seal('access-abc123');
    expect(sealed.keyId).toBe(cipher.currentKeyId);
    expect(sealed.ciphertext).not.toContain('access-abc123');
    expect(Buffer.from(sealed.ciphertext, 'base64url').toString('latin1')).not.toContain('access-abc123');
    expect(cipher.open(sealed)).toBe('access-abc123');
    // A fresh IV each time: the same token never seals to the same text.
    expect(cipher.seal('access-abc123').ciphertext).not.toBe(sealed.ciphertext);
  });

  it('refuses an altered ciphertext or a ciphertext moved beside another key id', () => {
    const cipher = new TokenCipher(key, randomBytes(32));
    const sealed = cipher.seal('refresh-xyz');
    const raw = Buffer.from(sealed.ciphertext, 'base64url');
    raw[raw.length - 1]! ^= 1;
    expect(() => cipher.open({ ...sealed, ciphertext: raw.toString('base64url') })).toThrow();
    expect(() => cipher.open({ keyId: 'ffffffffffffffff', ciphertext: sealed.ciphertext })).toThrow(/No token encryption key/);
  });

  it('after a rotation, the previous key still opens old values and new values use the new key', () => {
    const oldKey = randomBytes(32);
    const before = new TokenCipher(oldKey).seal('old-token');
    const rotated = new TokenCipher(randomBytes(32), oldKey);
    expect(rotated.open(before)).toBe('old-token');
    expect(rotated.seal('new').keyId).not.toBe(before.keyId);
    expect(() => new TokenCipher(randomBytes(32)).open(before)).toThrow();
  });
});

describe('resolveTokenCipher', () => {
  it('generates a development key once under DATA_DIR (mode 0600) and reuses it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'token-key-'));
    const env = parseEnv({ DATA_DIR: dir });
    const warnings: string[] = [];
    const first = resolveTokenCipher(env, (message) => warnings.push(message));
    const second = resolveTokenCipher(env, (message) => warnings.push(message));
    expect(second.open(first.seal('t'))).toBe('t');
    expect(warnings).toHaveLength(1);
    expect(statSync(join(dir, 'token-encryption-key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'token-encryption-key'), 'utf8').trim()).toHaveLength(44);
  });

  it('uses TOKEN_ENCRYPTION_KEY and TOKEN_ENCRYPTION_KEY_PREVIOUS when set', () => {
    const current = randomBytes(32);
    const previous = randomBytes(32);
    const old = new TokenCipher(previous).seal('kept');
    const cipher = resolveTokenCipher(
      parseEnv({ TOKEN_ENCRYPTION_KEY: current.toString('base64'), TOKEN_ENCRYPTION_KEY_PREVIOUS: previous.toString('base64') }),
      () => undefined,
    );
    expect(cipher.open(old)).toBe('kept');
    expect(new TokenCipher(current).open(cipher.seal('x'))).toBe('x');
  });
});

describe('provider settings', () => {
  it('refuses a key that is not 32 bytes of base64, and a provider without its secret', () => {
    expect(() => parseEnv({ TOKEN_ENCRYPTION_KEY: randomBytes(16).toString('base64') })).toThrow(/TOKEN_ENCRYPTION_KEY/);
    expect(() => parseEnv({ STRAVA_CLIENT_ID: '1' })).toThrow(/STRAVA_CLIENT_SECRET/);
  });

  it('requires TOKEN_ENCRYPTION_KEY in production only when a provider is configured', () => {
    const production = { NODE_ENV: 'production', AUTH_SECRET: 'x'.repeat(32) };
    expect(() => parseEnv(production)).not.toThrow();
    expect(() => parseEnv({ ...production, STRAVA_CLIENT_ID: '1', STRAVA_CLIENT_SECRET: 's' })).toThrow(/TOKEN_ENCRYPTION_KEY/);
    expect(parseEnv({ STRAVA_CLIENT_ID: '1', STRAVA_CLIENT_SECRET: 's' }).STRAVA_OAUTH_URL).toBe('https://www.strava.com/oauth');
  });
});
