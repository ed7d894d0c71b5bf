import type { Env } from '../../../config/env.js';
import { publicUrl } from '../../auth/auth.js';
import type { RateBudget } from '../backfill/rate-budget.js';
import { ProviderFailure } from '../providers.js';

const TIMEOUT_MS = 30_000;

/** Where Strava sends events: always on PUBLIC_URL. */
export const stravaCallbackUrl = (env: Env) => `${publicUrl(env).replace(/\/$/, '')}/api/v1/webhooks/strava`;

/**
 * Registers the application's push subscription (https://developers.strava.com/docs/webhooks/):
 * Strava checks the callback URL (GET with hub.challenge, answered by this server) before it answers
 * the subscription id, which is stored (provider_apps) so events of any other subscription are
 * dropped. One subscription per application: an existing one for the same URL is adopted; one for
 * another URL is reported (delete it first with `--replace`).
 */
export async function subscribeStrava(
  env: Env,
  budget: Pick<RateBudget, 'setSubscriptionId'>,
  options: { callbackUrl?: string; replace?: boolean } = {},
): Promise<{ id: string; callbackUrl: string; adopted: boolean }> {
  if (!env.STRAVA_CLIENT_ID || !env.STRAVA_CLIENT_SECRET) throw new Error('STRAVA_CLIENT_ID and STRAVA_CLIENT_SECRET must be set');
  if (!env.STRAVA_WEBHOOK_VERIFY_TOKEN) throw new Error('STRAVA_WEBHOOK_VERIFY_TOKEN must be set (any secret string; Strava echoes it at the check)');
  const callbackUrl = options.callbackUrl ?? stravaCallbackUrl(env);
  const base = `${env.STRAVA_API_URL.replace(/\/$/, '')}/push_subscriptions`;
  const credentials = { client_id: env.STRAVA_CLIENT_ID, client_secret: env.STRAVA_CLIENT_SECRET };

  const existing = await fetch(`${base}?${new URLSearchParams(credentials).toString()}`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!existing.ok) throw new ProviderFailure(existing.status, 'Strava push subscriptions list');
  const [current] = (await existing.json()) as { id: number; callback_url: string }[];
  if (current && current.callback_url === callbackUrl) {
    await budget.setSubscriptionId('strava', env.STRAVA_CLIENT_ID, String(current.id));
    return { id: String(current.id), callbackUrl, adopted: true };
  }
  if (current) {
    if (!options.replace) throw new Error(`The application already has subscription ${current.id} for ${current.callback_url}; run again with --replace to delete it`);
    const deleted = await fetch(`${base}/${current.id}?${new URLSearchParams(credentials).toString()}`, { method: 'DELETE', signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!deleted.ok && deleted.status !== 404) throw new ProviderFailure(deleted.status, 'Strava push subscription delete');
  }
  const created = await fetch(base, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ ...credentials, callback_url: callbackUrl, verify_token: env.STRAVA_WEBHOOK_VERIFY_TOKEN }).toString(),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  if (!created.ok) {
    const detail = await created.text().catch(() => '');
    throw new Error(`Strava refused the subscription (${created.status}): ${detail.slice(0, 500)} — is ${callbackUrl} reachable from Strava and is this server running?`);
  }
  const { id } = (await created.json()) as { id: number };
  await budget.setSubscriptionId('strava', env.STRAVA_CLIENT_ID, String(id));
  return { id: String(id), callbackUrl, adopted: false };
}
