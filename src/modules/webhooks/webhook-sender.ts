import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { ResolvedAddress } from './target-guard.js';

/** Most of a receiver's answer that is read (then discarded); the rest is not waited for. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

export interface SendOutcome {
  /** The receiver's status; undefined when none came (connection error, timeout). */
  statusCode?: number;
  durationMs: number;
  error?: string;
}

/**
 * One POST to a webhook target, connected to `pinned` (the address the guard checked) whatever DNS
 * says now; TLS still verifies the certificate for the URL's host name. Redirects are not followed
 * (a 3xx is a failed attempt). The whole exchange is bounded by `timeoutMs`, and at most
 * MAX_RESPONSE_BYTES of the answer are read.
 */
export function sendWebhook(url: string, pinned: ResolvedAddress, headers: Record<string, string>, body: string, timeoutMs: number): Promise<SendOutcome> {
  const started = performance.now();
  const target = new URL(url);
  const lookup: LookupFunction = (_hostname, options, callback) => {
    if (options.all) (callback as unknown as (error: null, addresses: { address: string; family: number }[]) => void)(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  };
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<SendOutcome>((resolve) => {
    let settled = false;
    const finish = (outcome: Omit<SendOutcome, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...outcome, durationMs: Math.round(performance.now() - started) });
    };
    const req = request(
      target,
      {
        method: 'POST',
        lookup,
        agent: false,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'unified-activity-api-webhooks/1' },
      },
      (response: IncomingMessage) => {
        let read = 0;
        response.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read >= MAX_RESPONSE_BYTES) {
            finish({ statusCode: response.statusCode });
            response.destroy();
          }
        });
        response.on('end', () => finish({ statusCode: response.statusCode }));
        response.on('error', () => finish({ statusCode: response.statusCode }));
      },
    );
    const timer = setTimeout(() => {
      finish({ error: `no complete answer within ${timeoutMs} ms` });
      req.destroy();
    }, timeoutMs);
    req.on('error', (error) => finish({ error: error.message }));
    req.end(body);
  });
}
