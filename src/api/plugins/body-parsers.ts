// Request bodies must be valid UTF-8: Fastify's own parsers would silently turn invalid bytes into U+FFFD and
// store them. JSON keeps Fastify's parser (secure-json-parse, prototype poisoning refused) after two checks; CSV
// (text/csv, or text/plain) arrives as text, except on POST /v1/datasets, which reads it as a stream through
// utf8BodyStream (the same checks, made as the bytes arrive). A charset other than UTF-8 answers 415.
import { createHash } from 'node:crypto';
import { finished, Transform, type Readable } from 'node:stream';
import { errorCodes, type FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Errors } from '../errors.js';

/** No request needs more than a handful of levels; nesting is where JSON.parse spends time and memory. */
const MAX_JSON_DEPTH = 64;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const notUtf8 = () => Errors.BAD_REQUEST('request body is not valid UTF-8');

function checkCharset(request: FastifyRequest): void {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(request.headers['content-type'] ?? '')?.[1];
  if (charset && !/^utf-?8$/i.test(charset)) {
    throw Errors.UNSUPPORTED_MEDIA_TYPE(`charset ${JSON.stringify(charset)} is not supported: send UTF-8`);
  }
}

function decode(request: FastifyRequest, body: Buffer): string {
  checkCharset(request);
  try {
    return utf8.decode(body);
  } catch {
    throw notUtf8();
  }
}

/** What the headers alone say about a text body: a declared length over the body limit (413), a charset not UTF-8 (415). */
export function checkTextHeaders(request: FastifyRequest): void {
  if (Number(request.headers['content-length']) > request.routeOptions.bodyLimit) throw new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE();
  checkCharset(request);
}

/**
 * Reads the rest of a body into nothing, so that a client sending it can finish and read the answer (one that
 * stopped at an error, say); past the body limit the connection is dropped instead. `read` bytes were read before.
 */
export function discardBody(request: FastifyRequest, payload: Readable, read = 0): void {
  let bytes = read;
  payload.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > request.routeOptions.bodyLimit) payload.destroy();
  });
  payload.resume();
}

/**
 * A text body for a content-type parser that reads it as a stream (Fastify enforces the body limit only for the
 * bodies it buffers). The bytes pass through unchanged once checked: checkTextHeaders first; then the body stays
 * within the route's body limit as it is counted, and reading stops at the limit (413, Fastify's own error); the
 * bytes are valid UTF-8, checked incrementally (400); the request arrives whole (400). sha256() is the digest of
 * the bytes read so far; discardRest() stops reading through `body` and discards the rest of the request.
 */
export function utf8BodyStream(request: FastifyRequest, payload: Readable): { body: Readable; sha256: () => string; discardRest: () => void } {
  checkTextHeaders(request);
  const limit = request.routeOptions.bodyLimit;
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const hash = createHash('sha256');
  let bytes = 0;
  const body = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (bytes > limit) return done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      try {
        decoder.decode(chunk, { stream: true });
      } catch {
        return done(notUtf8());
      }
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      try {
        decoder.decode(); // a multi-byte character cut off by the end of the body
      } catch {
        return done(notUtf8());
      }
      done();
    },
  });
  // A client that goes away mid-body. Errors never destroy the request itself, so an answer can still be sent.
  finished(payload, (err) => err && body.destroy(Errors.BAD_REQUEST('the request body was not received completely')));
  payload.pipe(body);
  return {
    body,
    sha256: () => hash.digest('hex'),
    discardRest: () => {
      payload.unpipe(body);
      discardBody(request, payload, bytes);
    },
  };
}

/**
 * Counts nesting and arrays/objects in one pass over the text, before JSON.parse allocates them: 32 MB of
 * `[{},{},...]` would otherwise cost seconds and a gigabyte, and 16 million `[` as many levels.
 */
function checkJsonShape(text: string, maxContainers: number): void {
  let depth = 0;
  let containers = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Skip the string: its brackets are text. An unterminated one is left for the parser to report.
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === 0x5c) i++;
        else if (s === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_JSON_DEPTH) throw Errors.BAD_REQUEST(`JSON is nested deeper than ${MAX_JSON_DEPTH} levels`);
      if (++containers > maxContainers) {
        throw Errors.BODY_TOO_LARGE(`JSON holds more than ${maxContainers} arrays and objects (DATASET_MAX_ROWS + 100000); send large datasets as text/csv`);
      }
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
}

export default fp<{ maxJsonContainers: number }>(
  async (app, opts) => {
    const parseJson = app.getDefaultJsonParser('error', 'error');
    app.removeContentTypeParser(['application/json', 'text/plain']);
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request: FastifyRequest, body: Buffer, done) => {
      let text: string;
      try {
        text = decode(request, body);
        checkJsonShape(text, opts.maxJsonContainers);
      } catch (err) {
        return done(err as Error, undefined);
      }
      parseJson(request, text, done);
    });
    app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'buffer' }, (request: FastifyRequest, body: Buffer, done) => {
      try {
        done(null, decode(request, body));
      } catch (err) {
        done(err as Error, undefined);
      }
    });
  },
  { name: 'body-parsers' },
);
