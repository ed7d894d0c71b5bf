import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ORPCError } from '@orpc/server';
import { fastify, type FastifyInstance } from 'fastify';
import * as z from 'zod';
import {
  answerFrameworkError,
  answerMalformedHttp,
  classifyValidationError,
  DATABASE_UNAVAILABLE,
  errorBody,
  httpErrorBody,
  malformedBody,
  procedureErrorHandling,
  replyWithError,
  ruleViolationBody,
  UNAUTHORIZED_BODY,
  type ErrorLogger,
} from './errors.js';

/** A logger that keeps its lines, to assert what was logged at which level. */
function recordingLogger(): ErrorLogger & { lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  return {
    lines,
    error: (message) => lines.push({ level: 'error', message }),
    warn: (message) => lines.push({ level: 'warn', message }),
    debug: (message) => lines.push({ level: 'debug', message }),
  };
}

/** What postgres.js throws for a refused connection, wrapped as Drizzle wraps it (with the query's parameters). */
const unreachable = () =>
  Object.assign(new Error('Failed query: select 1\nparams: ada@example.com'), {
    query: 'select 1',
    params: ['ada@example.com'],
    cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
  });

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

describe('errorBody', () => {
  it('puts the data fields at the top level beside code and message (the wire shape of a declared error)', () => {
    const conflict = new ORPCError('CONFLICT', { message: 'exists', data: { existingId: '00000000-0000-4000-8000-000000000001' } });
    expect(errorBody(conflict)).toEqual({ code: 'CONFLICT', message: 'exists', existingId: '00000000-0000-4000-8000-000000000001' });
  });

  it('never lets a data field replace the code or the message', () => {
    const error = new ORPCError('NOT_FOUND', { message: 'Activity not found', data: { code: 'SPOOFED', message: 'spoofed', extra: 1 } });
    expect(errorBody(error)).toEqual({ code: 'NOT_FOUND', message: 'Activity not found', extra: 1 });
  });
});

describe('the bodies the server writes without an ORPCError', () => {
  it('names the code of the status', () => {
    expect(httpErrorBody(413, 'too big')).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: 'too big' });
    expect(httpErrorBody(431, 'headers')).toEqual({ code: 'REQUEST_HEADER_FIELDS_TOO_LARGE', message: 'headers' });
    expect(httpErrorBody(502, 'x').code).toBe('INTERNAL_SERVER_ERROR');
    expect(malformedBody([{ path: ['email'], message: 'x' }])).toEqual({ code: 'BAD_REQUEST', message: expect.any(String), issues: [{ path: ['email'], message: 'x' }] });
    expect(ruleViolationBody([{ path: ['name'], message: 'y' }])).toMatchObject({ code: 'UNPROCESSABLE_CONTENT', issues: [{ path: ['name'], message: 'y' }] });
    expect(UNAUTHORIZED_BODY.code).toBe('UNAUTHORIZED');
    expect(DATABASE_UNAVAILABLE.code).toBe('SERVICE_UNAVAILABLE');
  });
});

describe('procedureErrorHandling().normaliseErrors', () => {
  const failWith = async (error: unknown) => {
    const logger = recordingLogger();
    const { normaliseErrors } = procedureErrorHandling(logger);
    const thrown = await normaliseErrors({ next: () => Promise.reject(error) }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    if (!(thrown instanceof ORPCError)) throw new Error(`expected an ORPCError, got ${String(thrown)}`);
    return { thrown, logger };
  };

  it('answers an unreachable database 503 with one warning that names no parameter value', async () => {
    const { thrown, logger } = await failWith(unreachable());
    expect(errorBody(thrown)).toEqual(DATABASE_UNAVAILABLE);
    expect(logger.lines.map((line) => line.level)).toEqual(['warn']);
    expect(logger.lines[0]!.message).toContain('ECONNREFUSED');
    expect(logger.lines[0]!.message).not.toContain('ada@example.com');
  });

  it('answers the request\'s data refused by the database (a unique violation) 409, logged at debug only', async () => {
    const { thrown, logger } = await failWith(Object.assign(new Error('duplicate key'), { code: '23505', constraint_name: 'x_key' }));
    expect(thrown.status).toBe(409);
    expect(thrown.code).toBe('CONFLICT');
    expect(logger.lines.map((line) => line.level)).toEqual(['debug']);
  });

  it('answers a bug 500 without its message, and logs it at error level', async () => {
    const { thrown, logger } = await failWith(new TypeError('cannot read x of undefined'));
    expect(errorBody(thrown)).toEqual({ code: 'INTERNAL_SERVER_ERROR', message: 'Unexpected server error' });
    expect(logger.lines).toEqual([{ level: 'error', message: expect.stringContaining('TypeError: cannot read x of undefined') }]);
  });

  it('passes a declared client error through unlogged, and classifies input validation into 400/422', async () => {
    const declared = new ORPCError('CONFLICT', { message: 'exists', data: { existingId: 'x' } });
    const { thrown, logger } = await failWith(declared);
    expect(thrown).toBe(declared);
    expect(logger.lines).toEqual([]);
    const { thrown: invalid } = await failWith(validationError(z.object({ n: z.number().max(1) }), { n: 5 }));
    expect(invalid.status).toBe(422);
  });
});

describe('replyWithError and answerMalformedHttp on a real Fastify server', () => {
  let server: FastifyInstance;
  const logger = recordingLogger();
  const send = (path: string, body?: string) => {
    const { port } = server.server.address() as AddressInfo;
    return fetch(`http://127.0.0.1:${port}${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  };

  beforeAll(async () => {
    server = fastify({ clientErrorHandler: answerMalformedHttp, frameworkErrors: answerFrameworkError });
    server.setErrorHandler(replyWithError(logger));
    server.post('/echo', { bodyLimit: 10 }, async (request) => request.body);
    server.get('/down', async () => {
      throw unreachable();
    });
    server.get('/bug', async () => {
      throw new Error('a bug');
    });
    await server.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers Fastify\'s own refusals in the one shape: a body over the limit, unreadable JSON', async () => {
    const large = await send('/echo', '{"a":"0123456789"}');
    expect(large.status).toBe(413);
    expect(await large.json()).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: expect.any(String) });
    const broken = await send('/echo', '{');
    expect(broken.status).toBe(400);
    expect(await broken.json()).toEqual({ code: 'BAD_REQUEST', message: 'The body is not valid JSON' });
  });

  it('answers an unreachable database outside a procedure 503, and a bug 500 without its message', async () => {
    const down = await send('/down');
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ code: 'SERVICE_UNAVAILABLE', message: expect.stringMatching(/database/i) });
    const bug = await send('/bug');
    expect(bug.status).toBe(500);
    expect(await bug.json()).toEqual({ code: 'INTERNAL_SERVER_ERROR', message: 'Unexpected server error' });
    expect(logger.lines.some((line) => line.level === 'error' && line.message.includes('a bug'))).toBe(true);
  });

  it('answers a path the router cannot decode (invalid UTF-8 percent-encoding) in the one shape', async () => {
    const response = await send('/echo/%ED%A0%80');
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ code: 'BAD_REQUEST', message: expect.stringContaining('not a valid url component') });
  });

  it('answers a request that is not HTTP in the one shape, on the socket', async () => {
    const { port } = server.server.address() as AddressInfo;
    const answer = await new Promise<string>((resolve, reject) => {
      let text = '';
      const socket = connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\nBad Header: \u0001\r\n\r\n'));
      socket.on('data', (chunk) => (text += chunk.toString())).on('end', () => resolve(text)).on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({ code: 'BAD_REQUEST', message: 'The request is not valid HTTP' });
  });
});
