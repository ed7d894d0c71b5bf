import { randomUUID } from 'node:crypto';
import type { Response } from 'superagent';
import type { TestApp } from '../setup/app.js';

export interface SignedUpUser {
  userId: string;
  email: string;
  password: string;
  token: string;
  /** The default athlete created at sign-up. */
  athleteId: string;
  auth: { Authorization: string };
}

/** Signs a new user up through the real auth route and returns its bearer token and default athlete. */
export async function signUp(t: TestApp, name = 'Test User'): Promise<SignedUpUser> {
  const email = `${randomUUID()}@example.test`;
  const password = `pw-${randomUUID()}`;
  const response = await t.http().post('/api/auth/sign-up/email').send({ name, email, password });
  if (response.status !== 200) throw new Error(`sign-up failed: ${response.status} ${JSON.stringify(response.body)}`);
  const token = response.headers['set-auth-token'];
  if (!token) throw new Error('sign-up returned no set-auth-token header');
  const auth = { Authorization: `Bearer ${token}` };
  const athletes = await t.http().get('/api/v1/athletes').set(auth);
  if (athletes.status !== 200 || athletes.body.items.length !== 1) {
    throw new Error(`default athlete missing: ${athletes.status} ${JSON.stringify(athletes.body)}`);
  }
  return { userId: response.body.user.id, email, password, token, athleteId: athletes.body.items[0].id, auth };
}

/** A supertest parser that keeps the body as the bytes received (`.buffer(true).parse(asBytes)`). */
export function asBytes(response: Response, done: (error: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  response.on('data', (chunk: Buffer) => chunks.push(chunk));
  response.on('end', () => done(null, Buffer.concat(chunks)));
}
