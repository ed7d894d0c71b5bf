import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import { ZipFile } from 'yazl';

/** What the manifest records of each entry. */
export interface ZipEntryRecord {
  path: string;
  byteSize: number;
  sha256: string;
}

/**
 * Writes an export zip to a file in constant memory: one entry at a time, each added only once the
 * previous one has been read into the zip, and the zip piped to the file with backpressure (yazl's
 * output is a Node stream; ZIP64 is written when an entry or the archive passes 4 GiB). Each entry's
 * SHA-256 is taken on its bytes as they pass, for the manifest.
 */
export class ExportZipWriter {
  private readonly zip = new ZipFile();
  private readonly file: WriteStream;
  private readonly written: Promise<void>;
  readonly entries: ZipEntryRecord[] = [];

  constructor(
    path: string,
    private readonly mtime: Date,
  ) {
    this.file = createWriteStream(path);
    this.written = finished(this.zip.outputStream.pipe(this.file));
    // A failed file write ends the wait of whatever entry is being added.
    this.written.catch(() => undefined);
  }

  /** One entry from bytes already in memory (a Parquet object, an original). */
  async addBytes(path: string, bytes: Uint8Array, compress: boolean): Promise<void> {
    await this.addChunks(path, [bytes], compress);
  }

  /**
   * One entry from chunks produced as it is written (activities.ndjson, a GPX track): each chunk is
   * handed on when the zip has taken the previous ones.
   */
  async addChunks(path: string, chunks: Iterable<Uint8Array | string> | AsyncIterable<Uint8Array | string>, compress: boolean): Promise<void> {
    const hash = createHash('sha256');
    let byteSize = 0;
    const input = new PassThrough({ highWaterMark: 1 << 16 });
    this.zip.addReadStream(input, path, { compress, mtime: this.mtime });
    const done = finished(input);
    done.catch(() => undefined);
    for await (const chunk of chunks) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      hash.update(bytes);
      byteSize += bytes.byteLength;
      if (!input.write(bytes)) await Promise.race([new Promise((resolve) => input.once('drain', resolve)), this.written]);
    }
    input.end();
    await Promise.race([done, this.written.then(() => done)]);
    this.entries.push({ path, byteSize, sha256: hash.digest('hex') });
  }

  /** Ends the zip; resolves once the file holds all of it. */
  async finish(): Promise<void> {
    this.zip.end();
    await this.written;
  }

  /** Stops writing (after a failure); the caller removes the file. */
  destroy(): void {
    this.zip.outputStream.unpipe(this.file);
    this.file.destroy();
  }
}

/** One JSON document: the head's fields, then each list with one item per line. */
export function* manifestChunks(head: Record<string, unknown>, lists: Record<string, readonly unknown[]>): Generator<string> {
  const fields = JSON.stringify(head, null, 2);
  yield fields.slice(0, -2);
  for (const [name, items] of Object.entries(lists)) {
    yield `,\n  ${JSON.stringify(name)}: [`;
    for (let i = 0; i < items.length; i++) yield `${i === 0 ? '' : ','}\n    ${JSON.stringify(items[i])}`;
    yield items.length === 0 ? ']' : '\n  ]';
  }
  yield '\n}\n';
}
