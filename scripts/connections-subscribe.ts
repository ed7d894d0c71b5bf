/**
 * `npm run connections:subscribe <provider>` registers the provider's push subscription for this
 * deployment (README "Connecting Strava and Garmin"); the server must be running and reachable at
 * PUBLIC_URL, since the provider checks the callback URL before it answers. Same configuration as
 * the server. `--replace` deletes an existing subscription for another URL first.
 */
import { openConfiguredDatabase } from '../src/app.js';
import { ConfigError, parseEnv } from '../src/config/env.js';
import { RateBudget } from '../src/modules/connections/backfill/rate-budget.js';
import { subscribeStrava } from '../src/modules/connections/strava/strava-subscription.js';

const SUBSCRIBERS: Record<string, (env: ReturnType<typeof parseEnv>, budget: RateBudget, replace: boolean) => Promise<{ id: string; callbackUrl: string; adopted: boolean }>> = {
  strava: (env, budget, replace) => subscribeStrava(env, budget, { replace }),
};

const provider = process.argv.slice(2).find((arg) => !arg.startsWith('--'));
const replace = process.argv.includes('--replace');
try {
  if (!provider || !SUBSCRIBERS[provider]) throw new ConfigError('provider', `name one of: ${Object.keys(SUBSCRIBERS).join(', ')} (npm run connections:subscribe strava)`);
  const env = parseEnv();
  const database = openConfiguredDatabase(env);
  try {
    await database.migrate();
    const result = await SUBSCRIBERS[provider](env, new RateBudget(env, database.db), replace);
    console.log(`${provider}: subscription ${result.id} ${result.adopted ? 'already registered' : 'registered'} for ${result.callbackUrl}`);
  } finally {
    await database.close();
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
