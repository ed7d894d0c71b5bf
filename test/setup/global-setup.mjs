// Plain JS: Jest loads globalSetup outside its ESM transform pipeline.
// With real PostgreSQL, every run starts from an empty database; each test file then applies the
// committed migrations through the app's own code (serialised by an advisory lock, see database.ts).
import postgres from 'postgres';

export default async function globalSetup() {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) return;
  const admin = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe('drop schema if exists public cascade; drop schema if exists drizzle cascade; create schema public;');
  } finally {
    await admin.end();
  }
}
