/**
 * `npm run fake:providers`: starts the fake Strava and the fake Garmin (test/fakes) on fixed ports,
 * with a seeded history each, and prints the .env lines that point the server at them, so a provider
 * connection can be tried end to end on one machine (README "Connecting Strava and Garmin").
 *
 * Environment: FAKE_STRAVA_PORT (4561), FAKE_GARMIN_PORT (4562), FAKE_PROVIDERS_HOST (127.0.0.1),
 * FAKE_ACTIVITIES (50 per provider), PUBLIC_URL (the app, http://localhost:3000: where webhooks and
 * Garmin pushes go).
 */
import { startFakeGarmin } from '../test/fakes/garmin/index.js';
import { startFakeStrava } from '../test/fakes/strava/index.js';

const port = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`${name} must be a port number`);
  return value;
};

try {
  const host = process.env.FAKE_PROVIDERS_HOST ?? '127.0.0.1';
  const activities = Number(process.env.FAKE_ACTIVITIES ?? 50);
  if (!Number.isInteger(activities) || activities < 0) throw new Error('FAKE_ACTIVITIES must be a whole number');
  const app = (process.env.PUBLIC_URL ?? 'http://localhost:3000').replace(/\/$/, '');
  const strava = await startFakeStrava({ host, port: port('FAKE_STRAVA_PORT', 4561), activities, webhookCallbackUrl: `${app}/api/v1/webhooks/strava` });
  const garmin = await startFakeGarmin({ host, port: port('FAKE_GARMIN_PORT', 4562), activities, pushUrl: `${app}/api/v1/webhooks/garmin` });
  console.log(`Fake Strava on ${strava.url} and fake Garmin on ${garmin.url}, ${activities} activities each. Put these lines in .env and restart the server:

STRAVA_CLIENT_ID=${strava.clientId}
STRAVA_CLIENT_SECRET=${strava.clientSecret}
STRAVA_WEBHOOK_VERIFY_TOKEN=fake-strava-verify-token
STRAVA_API_URL=${strava.apiUrl}
STRAVA_OAUTH_URL=${strava.oauthUrl}
GARMIN_CLIENT_ID=${garmin.clientId}
GARMIN_CLIENT_SECRET=${garmin.clientSecret}
GARMIN_API_URL=${garmin.apiUrl}
GARMIN_OAUTH_URL=${garmin.authorizeUrl}
GARMIN_TOKEN_URL=${garmin.tokenUrl}
PUBLIC_URL=${app}

Authorize pages approve at once; webhooks go to ${app}/api/v1/webhooks/strava once a push subscription exists,
Garmin pushes to ${app}/api/v1/webhooks/garmin/{summaryType}. Ctrl-C stops both.`);
  const stop = () => {
    void Promise.all([strava.close(), garmin.close()]).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  console.error(`fake:providers failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
