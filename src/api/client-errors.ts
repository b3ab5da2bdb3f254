// Errors that happen before a route's hooks and error handler can see the request, answered with the same coded
// JSON body as every other error: Fastify's routing errors, a missing Host, and what Node's HTTP parser rejects.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody, Errors, fastifyErrorMap } from './errors.js';

/**
 * Errors fastify raises while routing (a bad percent-encoding, an over-long path parameter), before any hook or
 * the error handler: answered with the same coded body.
 */
export function frameworkErrorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const error = fastifyErrorMap[err.code]?.() ?? Errors.BAD_REQUEST('the URL could not be routed');
  reply.header('x-request-id', request.id).code(error.statusCode).send(errorBody(error));
}

/** HTTP/1.1 needs a Host header; Node would refuse a request without one with an empty 400, this says why. */
export function requireHost(request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void {
  done(request.raw.httpVersion === '1.1' && request.headers.host === undefined ? Errors.BAD_REQUEST('HTTP/1.1 requests need a Host header') : undefined);
}

/** Node's HTTP parser rejected the bytes (malformed request line or header, headers over 16 KB, a timeout). */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const error =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? Errors.HEADERS_TOO_LARGE()
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? Errors.REQUEST_TIMEOUT()
        : Errors.BAD_REQUEST('the request is not valid HTTP/1.1');
  const body = JSON.stringify(errorBody(error));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${error.statusCode} ${STATUS_CODES[error.statusCode]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
