import { Logger, Module } from '@nestjs/common';
import { ENV } from '../../config/config.module.js';
import type { Env } from '../../config/env.js';
import { resolveTokenCipher, TokenCipher } from '../connections/token-cipher.js';

/**
 * The one TokenCipher (AES-256-GCM, TOKEN_ENCRYPTION_KEY / _PREVIOUS) for every secret kept at rest:
 * provider tokens (connections) and webhook signing secrets (webhooks).
 */
@Module({
  providers: [{ provide: TokenCipher, inject: [ENV], useFactory: (env: Env) => resolveTokenCipher(env, (message) => new Logger('TokenCipher').warn(message)) }],
  exports: [TokenCipher],
})
export class CryptoModule {}
