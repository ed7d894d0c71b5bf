/**
 * `npm run bench:upload-memory` — the server's memory while it takes a 100 MiB import upload
 * (issue 23): POST /api/v1/athletes/{id}/imports with multipart bodies of 100 MiB sent by curl (its
 * own process, reading the files from disk), as one file and as ten files of 10 MiB. The upload
 * becomes a job (202, its files staged in the object store); IMPORT_WORKERS=0, so no job runs.
 * Measured in this process (the server): the peak RSS (VmHWM, reset before each upload) and the
 * peak of V8's heap and of ArrayBuffer memory (sampled every 5 ms), each above what they were just
 * before the upload. Embedded PGlite and a local object store under a temporary DATA_DIR.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createApp } from '../src/app.js';
import { benchEnv } from './bench-env.js';
import { openDatabase } from '../src/database/database.js';
import { seedCatalog } from '../src/database/seed.js';

const MiB = 1024 * 1024;
const dataDir = mkdtempSync(join(tmpdir(), 'bench-upload-'));

const env = benchEnv(dataDir);

/** Peak resident set size of this process, in bytes, since start or the last reset. */
function peakRss(): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

function resetPeakRss(): void {
  writeFileSync('/proc/self/clear_refs', '5');
}

function curl(url: string, token: string, files: string[]): Promise<string> {
  const args = ['-sS', '-o', '-', '-w', '\n%{http_code}', '-H', `authorization: Bearer ${token}`, ...files.flatMap((file) => ['-F', `files=@${file}`]), url];
  return new Promise((resolve, reject) => execFile('curl', args, { maxBuffer: 16 * MiB }, (error, stdout) => (error ? reject(error) : resolve(stdout))));
}

async function main() {
  const database = openDatabase({ pgliteDir: join(dataDir, 'pglite') });
  await database.migrate();
  await seedCatalog(database.db);
  const app = await createApp(env, { database });
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  const http = request(app.getHttpServer());
  const signUp = await http.post('/api/auth/sign-up/email').send({ name: 'Bench', email: 'bench@example.test', password: 'bench-password-123' });
  const token = signUp.headers['set-auth-token'] as string;
  const athletes = await request(app.getHttpServer()).get('/api/v1/athletes').set({ authorization: `Bearer ${token}` });
  const athleteId = athletes.body.items[0].id as string;

  const shapes: [string, number, number][] = [
    ['one file of 100 MiB', 1, 100 * MiB],
    ['ten files of 10 MiB', 10, 10 * MiB],
  ];
  console.log(`Node ${process.version}; server in this process, curl sends the bodies\n`);
  console.log(`  ${'upload'.padEnd(22)} ${'status'.padStart(6)} ${'seconds'.padStart(8)} ${'peak RSS +MiB'.padStart(14)} ${'peak heap +MiB'.padStart(15)} ${'peak ArrayBuffers +MiB'.padStart(23)}`);
  for (const [label, count, size] of shapes) {
    const files = Array.from({ length: count }, (_, i) => {
      const path = join(dataDir, `upload-${count}-${i}.bin`);
      const bytes = Buffer.alloc(size);
      for (let offset = 0; offset < size; offset += 4096) bytes.writeUInt32LE((offset * 2654435761 + i) >>> 0, offset);
      writeFileSync(path, bytes);
      return path;
    });
    global.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const before = process.memoryUsage();
    resetPeakRss();
    const rssBefore = peakRss();
    let heapPeak = before.heapUsed;
    let buffersPeak = before.arrayBuffers;
    const sampler = setInterval(() => {
      const now = process.memoryUsage();
      heapPeak = Math.max(heapPeak, now.heapUsed);
      buffersPeak = Math.max(buffersPeak, now.arrayBuffers);
    }, 5);
    const started = performance.now();
    const answer = await curl(`${url.replace('[::1]', '127.0.0.1')}/api/v1/athletes/${athleteId}/imports`, token, files);
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    const status = answer.slice(answer.lastIndexOf('\n') + 1);
    const rss = (peakRss() - rssBefore) / MiB;
    console.log(
      `  ${label.padEnd(22)} ${status.padStart(6)} ${seconds.toFixed(2).padStart(8)} ${rss.toFixed(0).padStart(14)} ${((heapPeak - before.heapUsed) / MiB).toFixed(0).padStart(15)} ${((buffersPeak - before.arrayBuffers) / MiB).toFixed(0).padStart(23)}`,
    );
    if (status !== '202') console.log(answer.slice(0, 500));
    for (const file of files) rmSync(file);
  }
  await app.close();
  await database.close();
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dataDir, { recursive: true, force: true }));
