import { describe, expect, it } from '@jest/globals';
import * as z from 'zod';
import { boundedJson, checkJson, DateTimeInputSchema, parseDateTime, text } from './common.js';

describe('DateTimeInputSchema', () => {
  it.each([
    ['2026-05-01T06:00:00Z', '2026-05-01T06:00:00.000Z'],
    ['2026-05-01T08:00:00+02:00', '2026-05-01T06:00:00.000Z'],
    ['2026-05-01T01:30:00.25-04:30', '2026-05-01T06:00:00.250Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    ['1900-01-01T00:00:00Z', '1900-01-01T00:00:00.000Z'],
    ['2200-12-31T23:59:59.999Z', '2200-12-31T23:59:59.999Z'],
  ])('reads %s as %s (UTC)', (input, expected) => {
    const parsed = DateTimeInputSchema.parse(input);
    expect(parsed.toISOString()).toBe(expected);
  });

  it('accepts a Date (RPC clients) inside the range', () => {
    expect(DateTimeInputSchema.parse(new Date('2026-05-01T06:00:00Z')).toISOString()).toBe('2026-05-01T06:00:00.000Z');
  });

  it.each([
    true,
    false,
    0,
    1_777_629_600_000,
    null,
    '1',
    '2026',
    '2026-05-01',
    '2026-02-30T10:00:00Z',
    '2023-02-29T10:00:00Z',
    '2026-13-01T10:00:00Z',
    '2026-05-01T24:00:00Z',
    'May 1 2026 10:00',
    '2026-05-01T10:00:00',
    '2026-05-01 10:00:00Z',
    '+099999-01-01T10:00:00Z',
    '2026-05-01T10:00:00+0200',
    '2026-05-01T10:00:00Z\u0000',
    {},
    [],
  ])('refuses %j as malformed (a 400 problem)', (input) => {
    const result = DateTimeInputSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((issue) => issue.code)).not.toContain('custom');
    // One message for every malformed value: a string without an offset is told what is missing, as `true` is.
    expect(result.error!.issues.map((issue) => issue.message)).toEqual([expect.stringMatching(/^must be an ISO 8601 date-time with seconds and an offset/)]);
  });

  it.each(['0000-01-01T00:00:00Z', '1899-12-31T23:59:59Z', '2201-01-01T00:00:00Z', '9999-12-31T23:59:59Z'])(
    'refuses %s as out of range (a 422 problem)',
    (input) => {
      const result = DateTimeInputSchema.safeParse(input);
      expect(result.success).toBe(false);
      expect(result.error!.issues[0]!.code).toBe('custom');
      expect(result.error!.issues[0]!.message).toMatch(/1900/);
    },
  );

  it('refuses Dates outside the range and invalid Dates', () => {
    expect(DateTimeInputSchema.safeParse(new Date(Date.UTC(99_999, 0, 1))).success).toBe(false);
    expect(DateTimeInputSchema.safeParse(new Date(Number.NaN)).success).toBe(false);
  });

  it('does not depend on the server time zone (offset-less strings are refused, not read as local time)', () => {
    expect(parseDateTime('2026-05-01T10:00:00')).toBeUndefined();
    expect(parseDateTime('2026-05-01T10:00:00Z')).toBe(Date.UTC(2026, 4, 1, 10));
  });
});

describe('text', () => {
  const name = text({ max: 10 });
  const notes = text({ max: 100, multiline: true });

  it('accepts ordinary text, including non-Latin scripts and emoji (surrogate pairs)', () => {
    for (const value of ['', 'Lauf', 'Zürich–Genève', '東京マラソン', 'run 🏃‍♀️']) expect(text({ max: 50 }).parse(value)).toBe(value);
  });

  it.each(['a\u0000b', 'a\u0001', 'a\tb', 'a\nb', 'a\u007F', 'a\u001B[31m', 'lone \uD800 surrogate', '\uDC00'])(
    'a single-line field refuses %j',
    (value) => {
      expect(name.safeParse(value).success).toBe(false);
    },
  );

  it('multi-line text allows tab and line breaks but still refuses NUL and other controls', () => {
    expect(notes.parse('line 1\r\nline 2\tend')).toBe('line 1\r\nline 2\tend');
    expect(notes.safeParse('a\u0000b').success).toBe(false);
    expect(notes.safeParse('a\u0007b').success).toBe(false);
  });

  it('bounds the length', () => {
    expect(name.safeParse('x'.repeat(10)).success).toBe(true);
    expect(name.safeParse('x'.repeat(11)).error!.issues[0]!.code).toBe('too_big');
  });

  it('documents the rule as a JSON Schema pattern that means the same with the u flag', () => {
    const { pattern } = z.toJSONSchema(name) as { pattern: string };
    const unicode = new RegExp(pattern, 'u');
    expect(unicode.test('run 🏃')).toBe(true);
    expect(unicode.test('a\u0000')).toBe(false);
    expect(unicode.test('\uD800')).toBe(false);
  });
});

describe('bounded JSON', () => {
  const bounds = { maxDepth: 8, maxNodes: 50, maxStringLength: 20 };

  it('accepts JSON within the bounds', () => {
    expect(checkJson({ a: [1, 'two', null, true, { b: {} }] }, bounds)).toBeUndefined();
  });

  it('refuses 5,000 levels of nesting without recursing (no stack overflow)', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 5000; i++) deep = { a: deep };
    expect(checkJson(deep, bounds)).toMatchObject({ malformed: false, message: expect.stringContaining('8 levels') });
    let deepArray: unknown = [];
    for (let i = 0; i < 100_000; i++) deepArray = [deepArray];
    expect(boundedJson({ maxDepth: 64, maxNodes: 1000, maxStringLength: 10 }).safeParse(deepArray).success).toBe(false);
  });

  it('refuses too many values and over-long strings and keys', () => {
    expect(checkJson(Array.from({ length: 60 }, () => 1), bounds)?.message).toMatch(/50 values/);
    expect(checkJson({ a: 'x'.repeat(21) }, bounds)).toMatchObject({ path: ['a'], malformed: false });
    expect(checkJson({ ['k'.repeat(21)]: 1 }, bounds)).toMatchObject({ malformed: false });
  });

  it('refuses NUL and lone surrogates in values and keys as malformed, with the path', () => {
    expect(checkJson({ a: [0, 'x\u0000'] }, bounds)).toEqual({ path: ['a', 1], message: expect.any(String), malformed: true });
    expect(checkJson({ 'k\u0000': 1 }, bounds)).toMatchObject({ path: ['k\u0000'], malformed: true });
    expect(checkJson({ a: '\uD83D' }, bounds)).toMatchObject({ malformed: true });
  });

  it('refuses what JSON cannot carry', () => {
    for (const value of [Number.POSITIVE_INFINITY, Number.NaN, 1n, new Date(), () => 1, undefined]) {
      expect(checkJson({ a: value }, bounds)).toMatchObject({ malformed: true });
    }
  });
});
