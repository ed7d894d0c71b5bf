/**
 * Turns what the user hands over (uploaded bytes, files, folders) into the single files the
 * parsers read: gzip is inflated, zip archives are opened entry by entry (random access, so an
 * Apple Health export's export.xml can be streamed while its workout routes are read on demand),
 * and every decompression is capped so that a zip bomb is refused with a reason instead of
 * exhausting memory.
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import yauzl from 'yauzl';
import { detectFormat } from './parsers/types.js';

/** Largest single file after decompression (a 10-hour 1 Hz FIT is about 1 MB; GPX a few). */
export const MAX_FILE_BYTES = 256 * 1024 * 1024;
/** Largest sum of decompressed entries read from one archive (export.xml streams do not count). */
export const MAX_ARCHIVE_BYTES = 4 * 1024 * 1024 * 1024;
/** Most entries one archive may list. */
export const MAX_ARCHIVE_ENTRIES = 100_000;
/** A zip inside a zip is opened; one deeper is refused. */
const MAX_NESTING = 2;

export type ImportInput = { name: string; bytes: Uint8Array } | { name: string; path: string };

export type Leaf =
  | { kind: 'file'; name: string; bytes: Uint8Array }
  | {
      kind: 'apple_health';
      name: string;
      xml: () => AsyncIterable<Uint8Array>;
      routes: (path: string) => Promise<Uint8Array | undefined>;
      /**
       * Call when done with xml() and routes(): an archive stays open until then, even if the
       * generator is asked for the next leaf meanwhile (the CLI's runners share one walk).
       */
      release: () => void;
    }
  | { kind: 'rejected'; name: string; reason: string };

const isGzip = (bytes: Uint8Array) => bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
const isZip = (bytes: Uint8Array) => bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 0x03 || bytes[2] === 0x05);
const isAppleHealthXml = (name: string) => /(^|\/)export\.xml$/i.test(name);

function gunzip(name: string, bytes: Uint8Array): Leaf | Uint8Array {
  try {
    return new Uint8Array(gunzipSync(bytes, { maxOutputLength: MAX_FILE_BYTES }));
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      return { kind: 'rejected', name, reason: `decompresses to more than ${MAX_FILE_BYTES} bytes; refused (a zip bomb?)` };
    }
    return { kind: 'rejected', name, reason: `not a readable gzip file: ${(error as Error).message}` };
  }
}

/** Expands one input into the files to parse, in order. Never throws for bad content: it yields a rejected leaf. */
export async function* unpack(input: ImportInput): AsyncGenerator<Leaf> {
  if ('path' in input) {
    const info = await stat(input.path).catch(() => undefined);
    if (!info) {
      yield { kind: 'rejected', name: input.name, reason: 'no such file or folder' };
      return;
    }
    if (info.isDirectory()) {
      yield* unpackFolder(input.path, input.name);
      return;
    }
    if (info.size > MAX_FILE_BYTES && !(await looksLikeZipOrHealthFile(input.path))) {
      yield { kind: 'rejected', name: input.name, reason: `larger than ${MAX_FILE_BYTES} bytes` };
      return;
    }
    const head = await readHead(input.path);
    if (isZip(head)) {
      yield* unpackZip(input.name, (options, done) => yauzl.open(input.path, options, done), 1);
      return;
    }
    if (!isGzip(head) && isAppleHealthXml(input.name) && detectFormat(head, input.name) === 'apple_health_xml') {
      const folder = dirname(input.path);
      yield {
        kind: 'apple_health',
        name: input.name,
        xml: () => createReadStream(input.path) as AsyncIterable<Uint8Array>,
        routes: (path) => readFile(join(folder, path.replace(/^\/+/, ''))).then((b) => new Uint8Array(b), () => undefined),
        release: () => undefined,
      };
      return;
    }
    yield* unpackBytes(input.name, new Uint8Array(await readFile(input.path)), 1);
    return;
  }
  yield* unpackBytes(input.name, input.bytes, 1);
}

async function* unpackBytes(name: string, bytes: Uint8Array, depth: number): AsyncGenerator<Leaf> {
  if (isGzip(bytes)) {
    const inflated = gunzip(name, bytes);
    if (!(inflated instanceof Uint8Array)) {
      yield inflated;
      return;
    }
    bytes = inflated;
  }
  if (isZip(bytes)) {
    if (depth > MAX_NESTING) {
      yield { kind: 'rejected', name, reason: 'zip archives nested deeper than two levels are not opened' };
      return;
    }
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    yield* unpackZip(name, (options, done) => yauzl.fromBuffer(buffer, options, done), depth);
    return;
  }
  if (isAppleHealthXml(name) && detectFormat(bytes, name) === 'apple_health_xml') {
    yield { kind: 'apple_health', name, xml: async function* () { yield bytes; }, routes: async () => undefined, release: () => undefined };
    return;
  }
  yield { kind: 'file', name, bytes };
}

type ZipOpener = (options: yauzl.Options, done: (error: Error | null, zip: yauzl.ZipFile) => void) => void;

async function* unpackZip(name: string, open: ZipOpener, depth: number): AsyncGenerator<Leaf> {
  let zip: yauzl.ZipFile;
  try {
    zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
      open({ lazyEntries: true, autoClose: false, validateEntrySizes: true }, (error, file) => (error ? reject(error) : resolve(file))),
    );
  } catch (error) {
    yield { kind: 'rejected', name, reason: `not a readable zip archive: ${(error as Error).message}` };
    return;
  }
  const inUse: Promise<void>[] = [];
  try {
    let entries: yauzl.Entry[];
    try {
      entries = await listEntries(zip);
    } catch (error) {
      yield { kind: 'rejected', name, reason: `not a readable zip archive: ${(error as Error).message}` };
      return;
    }
    if (entries.length > MAX_ARCHIVE_ENTRIES) {
      yield { kind: 'rejected', name, reason: `lists more than ${MAX_ARCHIVE_ENTRIES} entries; refused` };
      return;
    }
    const files = entries.filter((entry) => !entry.fileName.endsWith('/') && !isJunk(entry.fileName));
    const byName = new Map(files.map((entry) => [entry.fileName, entry]));
    const healthExports = files.filter((entry) => isAppleHealthXml(entry.fileName));
    // An Apple Health export's other files (routes, clinical records, ECGs) are read through its export.xml.
    const healthFolders = healthExports.map((entry) => posix.dirname(entry.fileName));
    const inHealthFolder = (entry: yauzl.Entry) =>
      healthFolders.some((folder) => (folder === '.' ? true : entry.fileName.startsWith(`${folder}/`)));

    let total = 0;
    for (const entry of files) {
      const entryName = `${name}/${entry.fileName}`;
      if (healthExports.includes(entry)) {
        const folder = posix.dirname(entry.fileName);
        let release!: () => void;
        inUse.push(new Promise<void>((resolve) => (release = resolve)));
        yield {
          release,
          kind: 'apple_health',
          name: entryName,
          xml: () => streamEntry(zip, entry),
          routes: async (path) => {
            const route = byName.get(posix.normalize(posix.join(folder === '.' ? '' : folder, path.replace(/^\/+/, ''))));
            if (!route || route.uncompressedSize > MAX_FILE_BYTES) return undefined;
            return readEntry(zip, route);
          },
        };
        continue;
      }
      if (inHealthFolder(entry)) continue;
      if (entry.uncompressedSize > MAX_FILE_BYTES) {
        yield { kind: 'rejected', name: entryName, reason: `decompresses to ${entry.uncompressedSize} bytes, more than ${MAX_FILE_BYTES}; refused` };
        continue;
      }
      total += entry.uncompressedSize;
      if (total > MAX_ARCHIVE_BYTES) {
        yield { kind: 'rejected', name: entryName, reason: `the archive decompresses to more than ${MAX_ARCHIVE_BYTES} bytes; the rest is refused (a zip bomb?)` };
        return;
      }
      let bytes: Uint8Array;
      try {
        bytes = await readEntry(zip, entry);
      } catch (error) {
        yield { kind: 'rejected', name: entryName, reason: `cannot be read from the archive: ${(error as Error).message}` };
        continue;
      }
      yield* unpackBytes(entryName, bytes, depth + 1);
    }
  } finally {
    await Promise.all(inUse);
    zip.close();
  }
}

const isJunk = (fileName: string) => fileName.startsWith('__MACOSX/') || basename(fileName).startsWith('.');

function listEntries(zip: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    zip.on('entry', (entry: yauzl.Entry) => {
      entries.push(entry);
      if (entries.length > MAX_ARCHIVE_ENTRIES) resolve(entries);
      else zip.readEntry();
    });
    zip.once('end', () => resolve(entries));
    zip.once('error', reject);
    zip.readEntry();
  });
}

function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => zip.openReadStream(entry, (error, stream) => (error ? reject(error) : resolve(stream))));
}

async function* streamEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): AsyncGenerator<Uint8Array> {
  for await (const chunk of await openEntry(zip, entry)) yield chunk as Uint8Array;
}

async function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Uint8Array> {
  const out = new Uint8Array(entry.uncompressedSize);
  let offset = 0;
  // validateEntrySizes makes yauzl fail the stream if the data inflates beyond the declared size.
  for await (const chunk of await openEntry(zip, entry)) {
    out.set(chunk as Uint8Array, offset);
    offset += (chunk as Uint8Array).byteLength;
  }
  return out;
}

async function readHead(path: string): Promise<Uint8Array> {
  const stream = createReadStream(path, { start: 0, end: 4095 });
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

async function looksLikeZipOrHealthFile(path: string): Promise<boolean> {
  const head = await readHead(path);
  return isZip(head) || (isAppleHealthXml(path) && detectFormat(head, path) === 'apple_health_xml');
}

/**
 * Files of a folder, recursively, in name order. A folder holding an Apple Health export.xml
 * yields only that file: its routes are read through it, not imported a second time as GPX.
 */
async function* unpackFolder(path: string, name: string): AsyncGenerator<Leaf> {
  const entries = (await readdir(path, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  if (entries.some((entry) => entry.isFile() && entry.name.toLowerCase() === 'export.xml')) {
    yield* unpack({ name: join(name, 'export.xml'), path: join(path, entries.find((e) => e.name.toLowerCase() === 'export.xml')!.name) });
    return;
  }
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const child = { name: join(name, entry.name), path: join(path, entry.name) };
    if (entry.isDirectory() || entry.isFile()) yield* unpack(child);
  }
}
