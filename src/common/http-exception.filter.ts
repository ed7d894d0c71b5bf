import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { codeForStatus } from '../modules/api/errors.js';

/**
 * The one error shape for classic Nest routes (health, unknown paths): `{ code, message }`, never a
 * stack trace. oRPC routes and better-auth are normalised where they are mounted (ApiService).
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
      void reply.status(status).send({ code: codeForStatus(status), message });
      return;
    }
    this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    void reply.status(500).send({ code: 'INTERNAL_SERVER_ERROR', message: 'Unexpected server error' });
  }
}
