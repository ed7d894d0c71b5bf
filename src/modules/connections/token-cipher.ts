import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Env } from '../../config/env.js';

/** A sealed value and the id of the key that sealed it (stored side by side). */
export interface Sealed {
  keyId: string;
  ciphertext: string;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A key's id: the first 8 bytes of its SHA-256, so a stored ciphertext names its key without revealing it. */
export const keyIdOf = (key: Buffer): string => createHash('sha256').update(key).digest('hex').slice(0, 16);

/**
 * AES-256-GCM for provider tokens at rest. Seals with the current key; opens with whichever key
 * (current or previous) the stored key id names, so TOKEN_ENCRYPTION_KEY can be rotated: set the
 * new key, move the old one to TOKEN_ENCRYPTION_KEY_PREVIOUS, and values are re-sealed with the new
 * key the next time they are written (every token refresh).
 */
export class TokenCipher {
  private readonly keys = new Map<string, Buffer>();
  readonly currentKeyId: string;

  constructor(current: Buffer, previous?: Buffer) {
    if (current.length !== 32 || (previous && previous.length !== 32)) throw new Error('Token encryption keys must be 32 bytes');
    this.currentKeyId = keyIdOf(current);
    this.keys.set(this.currentKeyId, current);
    if (previous) this.keys.set(keyIdOf(previous), previous);
  }

  /** `base64url(iv | tag | ciphertext)` under the current key. */
  seal(plaintext: string): Sealed {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentKeyId)!, iv);
    // The key id is authenticated too: a ciphertext moved beside another key id fails to open.
    cipher.setAAD(Buffer.from(this.currentKeyId));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { keyId: this.currentKeyId, ciphertext: Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url') };
  }

  /** The plaintext; throws when the key is unknown or the value was altered (never says more). */
  open({ keyId, ciphertext }: Sealed): string {
    const key = this.keys.get(keyId);
    if (!key) throw new UnknownKeyError(keyId);
    const raw = Buffer.from(ciphertext, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new Error('Sealed token is truncated');
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(keyId));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  }
}

/** A value sealed with a key this process does not hold (rotated twice, or a replica with another key). */
export class UnknownKeyError extends Error {
  constructor(readonly keyId: string) {
    super(`No token encryption key with id ${keyId} (was TOKEN_ENCRYPTION_KEY rotated twice, or does another replica use another key?)`);
    this.name = 'UnknownKeyError';
  }
}

/** Where a generated development key is kept (like DATA_DIR/auth-secret). */
export const tokenKeyFile = (env: Env): string => join(resolve(env.DATA_DIR), 'token-encryption-key');

/**
 * The cipher from TOKEN_ENCRYPTION_KEY(_PREVIOUS). Without a key (development, tests; production
 * refuses to start without one when a provider is configured, env.ts) a key is generated once and
 * kept in DATA_DIR/token-encryption-key (mode 0600), so stored tokens survive restarts.
 */
export function resolveTokenCipher(env: Env, warn: (message: string) => void): TokenCipher {
  const previous = env.TOKEN_ENCRYPTION_KEY_PREVIOUS ? Buffer.from(env.TOKEN_ENCRYPTION_KEY_PREVIOUS, 'base64') : undefined;
  if (env.TOKEN_ENCRYPTION_KEY) return new TokenCipher(Buffer.from(env.TOKEN_ENCRYPTION_KEY, 'base64'), previous);
  const file = tokenKeyFile(env);
  const read = (): Buffer | undefined => {
    try {
      const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
      return key.length === 32 ? key : undefined;
    } catch {
      return undefined;
    }
  };
  let key = read();
  if (!key) {
    mkdirSync(resolve(env.DATA_DIR), { recursive: true });
    try {
      // 'wx': when two processes start at once, exactly one writes and both read its key.
      writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
      warn(`TOKEN_ENCRYPTION_KEY is not set: generated a development key in ${file}. Set TOKEN_ENCRYPTION_KEY in production.`);
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
    }
    key = read();
    if (!key) throw new Error(`Could not read the generated token encryption key from ${file}`);
  }
  return new TokenCipher(key, previous);
}
