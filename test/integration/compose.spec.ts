import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { EnvSchema, parseEnv } from '../../src/config/env.js';

/**
 * docker-compose.yml as an operator runs it, checked without a Docker engine (CI has none):
 * dclint validates it against the Compose Specification's schema and its rules (explicit image
 * tags, ports bound to an interface, …); the rest reads the file with a YAML parser and
 * interpolates `${…}` as compose does, to check what the API is given against src/config/env.ts.
 */
interface Service {
  image?: string;
  environment?: Record<string, string>;
  ports?: string[];
}
const root = resolve(import.meta.dirname, '../..');
const composeText = readFileSync(resolve(root, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText) as { services: Record<string, Service> };
const envExample = readFileSync(resolve(root, '.env.example'), 'utf8');

/** Compose's interpolation: `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}`, `${VAR?message}`, `$$`. */
function interpolate(value: string, variables: Record<string, string>, missing: Set<string>): string {
  return value.replace(/\$\$|\$\{([A-Z0-9_]+)(?:(:?)([-?])([^}]*))?\}/g, (whole, name: string | undefined, colon: string, kind: string, rest: string) => {
    if (whole === '$$') return '$';
    const set = name! in variables && (colon !== ':' || variables[name!] !== '');
    if (set) return variables[name!]!;
    if (kind === '?') {
      missing.add(name!);
      return '';
    }
    return kind === '-' ? rest : '';
  });
}

/** Every variable the compose file reads, with how: `required` (`:?`), `default` (`:-`) or `plain`. */
function variablesRead(): Map<string, 'required' | 'default' | 'plain'> {
  const found = new Map<string, 'required' | 'default' | 'plain'>();
  for (const [, name, , kind] of composeText.matchAll(/\$\{([A-Z0-9_]+)(?:(:?)([-?]))?/g)) {
    const how = kind === '?' ? 'required' : kind === '-' ? 'default' : 'plain';
    if (found.has(name!) && found.get(name!) !== how) throw new Error(`${name} is read two ways`);
    found.set(name!, how);
  }
  return found;
}

/** The api service's environment once compose has interpolated it. */
function apiEnvironment(variables: Record<string, string>): { env: Record<string, string>; missing: Set<string> } {
  const missing = new Set<string>();
  const env = Object.fromEntries(Object.entries(compose.services.api!.environment!).map(([key, value]) => [key, interpolate(String(value), variables, missing)]));
  return { env, missing };
}

/** .env.example's variables with each `<…>` placeholder replaced by a random hex secret, as the README tells the operator. */
function filledExample(): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of envExample.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) values[match[1]!] = match[2]!.startsWith('<') ? randomBytes(32).toString('hex') : match[2]!;
  }
  return values;
}

describe('docker-compose.yml', () => {
  it('is a valid compose file that passes dclint with no problem', () => {
    const run = spawnSync(process.execPath, [resolve(root, 'node_modules/dclint/bin/dclint.cjs'), 'docker-compose.yml', '--max-warnings', '0', '--color', 'false'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(`${run.stdout}${run.stderr}`.trim()).toBe('');
    expect(run.status).toBe(0);
  });

  it('pins every image to an exact version tag', () => {
    const images = Object.values(compose.services).flatMap((service) => (service.image ? [service.image] : []));
    expect(images.length).toBeGreaterThan(0);
    // A major alone (postgres:16) moves as much as latest does: a minor or a dated release.
    for (const image of images) expect(image).toMatch(/^[a-z0-9./-]+:(\d+\.\d+[\w.-]*|RELEASE\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ)$/);
  });

  it('publishes no port beyond 127.0.0.1, and not the database’s at all', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const port of service.ports ?? []) expect(`${name} ${port}`).toMatch(new RegExp(`^${name} 127\\.0\\.0\\.1:\\d+:\\d+$`));
    }
    expect(compose.services.postgres!.ports).toBeUndefined();
  });

  it('has no credential of its own: each comes from .env and compose stops without it', () => {
    for (const known of ['minioadmin', 'activity:activity@', 'POSTGRES_PASSWORD: activity']) expect(composeText).not.toContain(known);
    const variables = variablesRead();
    const secrets = ['POSTGRES_PASSWORD', 'MINIO_ROOT_USER', 'MINIO_ROOT_PASSWORD', 'AUTH_SECRET'];
    for (const name of secrets) expect([name, variables.get(name)]).toEqual([name, 'required']);
    expect([...variables].filter(([, how]) => how === 'required').map(([name]) => name).sort()).toEqual([...secrets].sort());
    // With none of them set, compose refuses to start, naming each.
    const missing = new Set<string>();
    for (const service of Object.values(compose.services)) for (const value of Object.values(service.environment ?? {})) interpolate(String(value), {}, missing);
    expect([...missing].sort()).toEqual([...secrets].sort());
  });

  it('.env.example names exactly the variables compose reads, and .env is ignored by git', () => {
    const named = [...envExample.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]!);
    expect([...new Set(named)].sort()).toEqual([...variablesRead().keys()].sort());
    expect(readFileSync(resolve(root, '.gitignore'), 'utf8').split('\n').map((line) => line.trim())).toContain('.env');
  });

  it('gives the API only settings src/config/env.ts reads, and with .env.example filled in they parse', () => {
    const names = Object.keys(compose.services.api!.environment!);
    const known = Object.keys(EnvSchema.shape);
    expect(names.filter((name) => !known.includes(name))).toEqual([]);
    const { env, missing } = apiEnvironment(filledExample());
    expect([...missing]).toEqual([]);
    const parsed = parseEnv(env);
    expect(parsed.NODE_ENV).toBe('production');
    expect(parsed.DATABASE_URL).toMatch(/^postgres:\/\/activity:[0-9a-f]{64}@postgres:5432\/activity$/);
    expect(parsed.S3_ACCESS_KEY).toBe(env.S3_ACCESS_KEY);
    expect(parsed.TRUST_PROXY).toBe(false);
  });

  it('TRUST_PROXY: the values its comment suggests boot, the hop count it warns about is refused', () => {
    const base = apiEnvironment(filledExample()).env;
    const comment = composeText.slice(composeText.indexOf('# Behind a reverse proxy'), composeText.indexOf('TRUST_PROXY:'));
    for (const suggested of ['172.16.0.0/12', 'loopback', 'true']) {
      expect(comment).toContain(suggested);
      expect(() => parseEnv({ ...base, TRUST_PROXY: suggested })).not.toThrow();
    }
    expect(comment).toMatch(/hop count \(`1`\) is refused/);
    expect(() => parseEnv({ ...base, TRUST_PROXY: '1' })).toThrow(/TRUST_PROXY/);
  });
});
