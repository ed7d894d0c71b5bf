import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { describeError, httpErrorBody, INTERNAL_ERROR_BODY } from '../modules/api/errors.js';

/**
 * The one error shape for classic Nest routes (health, unknown paths): `{ code, message }`, never a
 * stack trace; the body comes from the one error module (modules/api/errors.ts), as every other layer's.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      const message =
        typeof response === 'object' && response !== null && 'message' in response
          ? [response.message].flat().join('; ')
          : exception.message;
      void reply.status(status).send(httpErrorBody(status, message));
      return;
    }
    this.logger.error(describeError(exception));
    void reply.status(500).send(INTERNAL_ERROR_BODY);
  }
}
