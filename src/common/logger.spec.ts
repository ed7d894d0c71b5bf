import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { createLogger, describeError, redactText, redactUrl } from './logger.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger('info', stream), text: () => lines.join('') };
}

describe('log redaction', () => {
  const TOKEN = 'tok3nVALUEabc.SIGNATURE/with+chars=';

  it('removes the parameters of a failed query, bearer credentials and session cookies from text', () => {
    const text = `Failed query: select * from "session" where "token" = $1\nparams: ${TOKEN}\nAuthorization: Bearer ${TOKEN}; cookie: better-auth.session_token=${TOKEN}`;
    expect(redactText(text)).not.toContain('tok3nVALUEabc');
    expect(redactText(text)).toContain('Failed query: select * from "session"');
  });

  it('removes secret query values and reset-link tokens from URLs, keeping the rest', () => {
    expect(redactUrl('/api/auth/reset-password/abc123?callbackURL=%2Fx&token=s3cret&page=2')).toBe(
      '/api/auth/reset-password/[redacted]?callbackURL=[redacted]&token=[redacted]&page=2',
    );
  });

  it('removes provider OAuth codes, states and tokens from URLs and token answers logged as objects', () => {
    expect(redactUrl('/api/v1/connections/strava/callback?state=s7ate&code=c0de&scope=read')).toBe(
      '/api/v1/connections/strava/callback?state=[redacted]&code=[redacted]&scope=read',
    );
    expect(redactText('grant_type=refresh_token&refresh_token=r3fresh&client_secret=s3cret')).not.toMatch(/r3fresh|s3cret/);
    const { logger, text } = capture();
    logger.info({ answer: { access_token: 'acc3ss', refresh_token: 'r3fresh', athlete: { id: 7 } }, state: { codeVerifier: 'v3rifier' } }, 'token');
    expect(text()).not.toMatch(/acc3ss|r3fresh|v3rifier/);
    expect(text()).toContain('"id":7');
  });

  it('blanks credentials in headers, bodies and errors logged as objects', () => {
    const { logger, text } = capture();
    const error = Object.assign(new Error(`Failed query: select 1\nparams: ${TOKEN}`), { params: [TOKEN], query: 'select 1' });
    logger.info({ req: { method: 'GET', url: `/x?token=${TOKEN}`, headers: { authorization: `Bearer ${TOKEN}` } } }, 'request');
    logger.info({ body: { password: 'hunter2-password', token: TOKEN } }, 'body');
    logger.error({ err: new Error('outer', { cause: error }) }, 'failed');
    logger.warn(`message with Bearer ${TOKEN}`);
    expect(text()).not.toContain('tok3nVALUEabc');
    expect(text()).not.toContain('hunter2');
    expect(text()).toContain('Failed query: select 1');
    expect(describeError(error)).not.toContain('tok3nVALUEabc');
  });
});
