import { describe, expect, it } from '@jest/globals';
import { ORPCError } from '@orpc/server';
import * as z from 'zod';
import { classifyValidationError, errorBody } from './errors.js';

/** The error oRPC raises for failed input validation: raw zod issues in data.issues. */
function validationError(schema: z.ZodType, input: unknown) {
  const result = schema.safeParse(input);
  if (result.success) throw new Error('expected the input to be invalid');
  return new ORPCError('BAD_REQUEST', { message: 'Input validation failed', data: { issues: result.error.issues } });
}

describe('classifyValidationError', () => {
  const schema = z.strictObject({
    name: z.string().max(5),
    distanceM: z.number().min(0),
    kind: z.enum(['a', 'b']).optional(),
    when: z.iso.datetime().optional(),
  });

  it('answers 400 for structural problems: wrong types, unknown fields, malformed formats', () => {
    for (const input of [
      { name: 1, distanceM: 1 },
      { name: 'x', distanceM: 1, extra: true },
      { name: 'x', distanceM: 1, when: 'yesterday' },
    ]) {
      expect(classifyValidationError(validationError(schema, input)).status).toBe(400);
    }
  });

  it('answers 422 when every problem breaks a bound or rule: a number out of range, an oversized string, an unknown enum value, a refinement', () => {
    expect(classifyValidationError(validationError(schema, { name: 'x', distanceM: -1 })).status).toBe(422);
    expect(classifyValidationError(validationError(schema, { name: 'toolong', distanceM: 1 })).status).toBe(422);
    expect(classifyValidationError(validationError(schema, { name: 'x', distanceM: 1, kind: 'c' })).status).toBe(422);
    const refined = z.object({ a: z.number() }).refine((v) => v.a > 1, { message: 'too small', path: ['a'] });
    expect(classifyValidationError(validationError(refined, { a: 0 })).status).toBe(422);
  });

  it('custom issues marked malformed (NUL inside JSON) are a 400', () => {
    const json = z.unknown().superRefine((_value, ctx) => ctx.addIssue({ code: 'custom', message: 'NUL', params: { malformed: true } }));
    expect(classifyValidationError(validationError(json, {})).status).toBe(400);
  });

  it('a request with both kinds of problems is a 400', () => {
    expect(classifyValidationError(validationError(schema, { name: 5, distanceM: -1 })).status).toBe(400);
  });

  it('gives one issue per unknown field, at its path', () => {
    const error = classifyValidationError(validationError(schema, { name: 'x', distanceM: 1, a: 1, b: 2 }));
    expect(errorBody(error)).toEqual({
      code: 'BAD_REQUEST',
      message: expect.any(String),
      issues: [
        { path: ['a'], message: 'Unknown field' },
        { path: ['b'], message: 'Unknown field' },
      ],
    });
  });

  it('reports the closest alternative of a union, and strips the params/body envelope of detailed inputs', () => {
    const detailed = z.object({
      params: z.object({ id: z.string() }),
      body: z.union([z.strictObject({ values: z.array(z.number()) }), z.instanceof(Blob)]),
    });
    const error = classifyValidationError(validationError(detailed, { params: { id: 'x' }, body: { values: [1, 'two'] } }));
    expect(errorBody(error).issues).toEqual([{ path: ['values', 1], message: expect.any(String) }]);
  });

  it('leaves other errors alone', () => {
    const notFound = new ORPCError('NOT_FOUND', { message: 'Activity not found' });
    expect(classifyValidationError(notFound)).toBe(notFound);
    expect(errorBody(notFound)).toEqual({ code: 'NOT_FOUND', message: 'Activity not found' });
  });
});
