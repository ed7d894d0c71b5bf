import { describe, expect, it } from '@jest/globals';
import { parseDateTime } from '@unified-activity/contract';
import { rng } from '../../../../libs/testing/seeded-random.js';
import { JsonSyntaxError, StreamColumnsScanner, type ScanResult } from './stream-columns-scanner.js';
import { MAX_SAMPLES } from '../stream-samples.js';

/** Feeds `text` in chunks of random sizes (1 byte up to the whole text). */
function scan(text: string | Buffer, seed = 1, sizeHint?: number): ScanResult {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const random = rng(seed);
  const scanner = new StreamColumnsScanner(sizeHint);
  const maxChunk = 1 + Math.floor(random() * Math.min(bytes.length, 64));
  for (let offset = 0; offset < bytes.length; ) {
    const size = 1 + Math.floor(random() * maxChunk);
    scanner.write(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return scanner.end();
}

/** What the upload would see after JSON.parse: the same numbers (bit for bit), NaN for null, epoch ms for strings. */
function expectColumnsOf(text: string, result: ScanResult) {
  expect(result.kind).toBe('columns');
  if (result.kind !== 'columns') return;
  const parsed = JSON.parse(text) as Record<string, unknown[]>;
  expect(Object.keys(result.columns.arrays).sort()).toEqual(Object.keys(parsed).sort());
  for (const [name, values] of Object.entries(parsed)) {
    const expected = values.map((value) => (value === null ? Number.NaN : typeof value === 'string' ? (parseDateTime(value) ?? Number.NaN) : (value as number)));
    const actual = [...result.columns.arrays[name as 'timestamps']!];
    expect(actual.length).toBe(expected.length);
    const mismatches = expected.filter((value, i) => !Object.is(value, actual[i]));
    expect({ name, mismatches }).toEqual({ name, mismatches: [] });
    expect(result.columns.lengths[name as 'timestamps']).toBe(values.length);
  }
}

function expectIrregularLike(text: string, result: ScanResult) {
  expect(result.kind).toBe('irregular');
  if (result.kind === 'irregular') expect(JSON.parse(result.json)).toEqual(JSON.parse(text));
}

describe('StreamColumnsScanner', () => {
  it('reads every number exactly as JSON.parse does, whatever the chunking', () => {
    const random = rng(7);
    const numbers: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const kind = i % 8;
      const x = (random() - 0.5) * 10 ** Math.floor(random() * 12 - 4);
      numbers.push(
        kind === 0
          ? String(Math.round(x))
          : kind === 1
            ? String(x)
            : kind === 2
              ? x.toExponential(Math.floor(random() * 17))
              : kind === 3
                ? x.toFixed(Math.floor(random() * 20))
                : kind === 4
                  ? x.toPrecision(1 + Math.floor(random() * 20)).replace(/e\+?/, 'E')
                  : kind === 5
                    ? ['-0', '0', '-0.0', '0.000', '1e-400', '123456789012345678901234567890', '0.1', '-1.5e+3', '9007199254740993'][i % 9]!
                    : kind === 6
                      ? `${Math.floor(random() * 1e15)}.${Math.floor(random() * 1e7)}`
                      : String(1_700_000_000_000 + i * 18),
      );
    }
    const text = `{"timestamps": [${numbers.join(',')}],\n "values" : [ ${numbers.reverse().join(' , ')} ] }`;
    for (const seed of [1, 2, 3]) expectColumnsOf(text, scan(text, seed));
  });

  it('reads position columns with nulls, ISO timestamps, escapes and a BOM', () => {
    const text =
      '\ufeff{"timestamps":["2026-05-01T06:00:00Z","2026-05-01T06:00:01.5+02:00","yesterday"],"latitude":[47.1,47.2,47.3],' +
      '"longitude":[8,8.1,8.2],"altitudeM":[null,400.5,null],"horizontalAccuracyM":[1,2,3]}';
    for (const seed of [1, 2, 3, 4]) {
      const result = scan(text, seed);
      expectColumnsOf(text.slice(1), result);
    }
    expectColumnsOf('{"timestamps":[1],"valu\\u0065s":[2]}', scan('{"timestamps":[1],"valu\\u0065s":[2]}'));
  });

  it('hands anything else back as JSON with the same meaning, for the contract to judge', () => {
    const cases = [
      '{"timestamps":[1,2],"values":["80",81]}',
      '{"timestamps":[1],"values":[80],"unit":"rpm"}',
      '{"timestamps":[1],"values":[null]}',
      '{"timestamps":[1],"values":[true]}',
      '{"timestamps":[1],"values":[[1],{"a":[2,"]"]}]}',
      '{"values":[80]}',
      '{"timestamps":1,"values":[80]}',
      '{"timestamps":[1],"values":[1],"values":[2]}',
      '{"timestamps":[1e400],"values":[80]}',
      '{"timestamps":["' + 'x'.repeat(41) + '"],"values":[80]}',
      '{"timestamps":["tab\\there"],"values":[80]}',
      '{"timestamps":["yesterday", 7],"values":[80, "x"]}',
      '{}',
      '[1,2,3]',
      '"text"',
      '42',
      'null',
    ];
    for (const text of cases) for (const seed of [1, 2]) expectIrregularLike(text, scan(text, seed));
  });

  it('refuses what JSON.parse refuses', () => {
    const cases = [
      '',
      ' ',
      '{',
      '{"timestamps":[1,2]',
      '{"timestamps":[1,]}',
      '{"timestamps":[01]}',
      '{"timestamps":[1.]}',
      '{"timestamps":[-]}',
      '{"timestamps":[1e]}',
      '{"timestamps":[.5]}',
      '{"timestamps":[+1]}',
      '{"timestamps":[1 2]}',
      '{"timestamps":[nul]}',
      '{"timestamps":[NaN]}',
      '{"timestamps":["a\u0001"]}',
      '{"timestamps":["\\x"]}',
      '{"timestamps":[1]} x',
      '{"timestamps":[1],}',
      '{"a":[1}',
      '{"a":tru}',
      "{'a':1}",
      '{"a" 1}',
    ];
    for (const text of cases) {
      expect(() => JSON.parse(text)).toThrow();
      for (const seed of [1, 2]) expect({ text, thrown: (() => { try { scan(text, seed); return false; } catch (error) { return error instanceof JsonSyntaxError; } })() }).toEqual({ text, thrown: true });
    }
  });

  it('keeps exact-size arrays (their buffers can move to a worker) and counts past the limit without keeping', () => {
    const text = `{"timestamps":[${Array.from({ length: 1000 }, (_, i) => i).join(',')}],"values":[${'1,'.repeat(999)}1]}`;
    const result = scan(text, 1, Buffer.byteLength(text));
    expect(result.kind).toBe('columns');
    if (result.kind !== 'columns') return;
    expect(result.columns.arrays.timestamps!.buffer.byteLength).toBe(1000 * 8);

    const long = `{"timestamps":[${'1,'.repeat(MAX_SAMPLES)}1],"values":[1]}`;
    const tooMany = scan(Buffer.from(long), 3);
    expect(tooMany.kind).toBe('columns');
    if (tooMany.kind !== 'columns') return;
    expect(tooMany.columns.lengths.timestamps).toBe(MAX_SAMPLES + 1);
    expect(tooMany.columns.arrays.timestamps!.length).toBe(MAX_SAMPLES);
  });
});
