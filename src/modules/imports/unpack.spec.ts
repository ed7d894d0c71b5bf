import { describe, expect, it } from '@jest/globals';
import { createGzip, gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { MAX_FILE_BYTES, unpack, type Leaf } from './unpack.js';

async function leaves(name: string, bytes: Uint8Array): Promise<Leaf[]> {
  const out: Leaf[] = [];
  for await (const leaf of unpack({ name, bytes })) out.push(leaf);
  return out;
}

/** A gzip stream of `size` zero bytes, built chunk by chunk (a few hundred KiB compressed). */
async function gzipOfZeros(size: number): Promise<Uint8Array> {
  const gzip = createGzip({ level: 9 });
  const chunks: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise((resolve) => gzip.on('end', resolve));
  const block = Buffer.alloc(1024 * 1024);
  for (let written = 0; written < size; written += block.length) {
    if (!gzip.write(block)) await new Promise((resolve) => gzip.once('drain', resolve));
  }
  gzip.end();
  await done;
  return new Uint8Array(Buffer.concat(chunks));
}

const text = (value: string) => new TextEncoder().encode(value);

describe('unpack', () => {
  it('refuses a gzip bomb with a reason instead of inflating it', async () => {
    const bomb = await gzipOfZeros(MAX_FILE_BYTES + 1024 * 1024);
    expect(bomb.byteLength).toBeLessThan(2 * 1024 * 1024);
    const [leaf] = await leaves('bomb.fit.gz', bomb);
    expect(leaf).toMatchObject({ kind: 'rejected', name: 'bomb.fit.gz' });
    expect((leaf as { reason: string }).reason).toMatch(/more than .* bytes; refused/);
  }, 60_000);

  it('opens zip entries (and zips and gzips inside them), skipping folders and macOS metadata', async () => {
    const inner = zipSync({ 'c.gpx': text('<gpx/>') });
    const archive = zipSync({
      'a.fit': text('A'),
      'sub/b.tcx.gz': new Uint8Array(gzipSync(text('<TrainingCenterDatabase/>'))),
      'nested.zip': inner,
      '__MACOSX/._a.fit': text('junk'),
      'sub/.DS_Store': text('junk'),
    });
    const result = await leaves('all.zip', archive);
    expect(result.map((leaf) => [leaf.kind, leaf.name])).toEqual([
      ['file', 'all.zip/a.fit'],
      ['file', 'all.zip/sub/b.tcx.gz'],
      ['file', 'all.zip/nested.zip/c.gpx'],
    ]);
    expect(new TextDecoder().decode((result[1] as { bytes: Uint8Array }).bytes)).toBe('<TrainingCenterDatabase/>');
  });

  it('reads an Apple Health export as one leaf whose routes resolve inside the archive', async () => {
    const archive = zipSync({
      'apple_health_export/export.xml': text('<?xml version="1.0"?>\n<HealthData locale="en_US"></HealthData>'),
      'apple_health_export/workout-routes/route_1.gpx': text('<gpx>route</gpx>'),
      'apple_health_export/export_cda.xml': text('<ClinicalDocument/>'),
    });
    const seen: Leaf[] = [];
    const walk = unpack({ name: 'export.zip', bytes: archive });
    for await (const leaf of walk) {
      seen.push(leaf);
      expect(leaf).toMatchObject({ kind: 'apple_health', name: 'export.zip/apple_health_export/export.xml' });
      const health = leaf as Extract<Leaf, { kind: 'apple_health' }>;
      // The archive stays open while the leaf is in use, even when the walk is asked to go on.
      const rest = walk.next();
      expect(new TextDecoder().decode(await health.routes('/workout-routes/route_1.gpx'))).toBe('<gpx>route</gpx>');
      expect(await health.routes('/workout-routes/missing.gpx')).toBeUndefined();
      let chunks = 0;
      for await (const chunk of health.xml()) chunks += chunk.byteLength;
      expect(chunks).toBeGreaterThan(0);
      health.release();
      expect((await rest).done).toBe(true);
      break;
    }
    expect(seen).toHaveLength(1);
  });
});
