import { createApp } from './app.js';
import { releaseMemory } from './common/release-memory.js';
import { ConfigError, parseEnv } from './config/env.js';

async function main() {
  const env = parseEnv();
  const app = await createApp(env);
  // Boot's garbage (module loading, building the app and its OpenAPI document) back to the operating
  // system before the first request: V8 would otherwise keep it committed (docs/benchmarks.md,
  // "PostgreSQL idle memory").
  releaseMemory();
  await app.listen({ port: env.PORT, host: env.HOST });
  const url = env.PUBLIC_URL ?? `http://localhost:${env.PORT}`;
  // A plain line on purpose: the one thing a person starting the server looks for.
  console.log(`Activity API listening on ${url} (docs: ${url}/docs)`);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    console.error(`Startup failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.exit(1);
});
