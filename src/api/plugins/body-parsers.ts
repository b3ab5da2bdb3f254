// Request bodies must be valid UTF-8: Fastify's own parsers would silently turn invalid bytes into U+FFFD and
// store them. JSON keeps Fastify's parser (secure-json-parse, prototype poisoning refused) after two checks; CSV
// (text/csv, or text/plain) arrives as text, except on POST /v1/datasets, which reads it as a stream through
// utf8BodyStream (the same checks, made as the bytes arrive). A charset other than UTF-8 answers 415.
// Content-Encoding gzip or deflate is inflated while the body is read (InflatedBody), for every parser: the body limit
// then counts the inflated bytes, so a small body that inflates past it answers 413; any other encoding answers 415.
import { createHash } from 'node:crypto';
import { finished, Readable, Transform } from 'node:stream';
import { createGunzip, createInflate, type Gunzip, type Inflate } from 'node:zlib';
import { errorCodes, type FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError, Errors } from '../errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The setting a route's own body limit comes from, named by its 413 (BODY_LIMIT_BYTES otherwise). */
    bodyLimitSetting?: RouteLimitSetting;
  }
}

/**
 * Routes whose bodies are small by nature get a limit of their own, so a 7 MB predict body is refused from its
 * Content-Length (413) before it is read or parsed; dataset uploads and model imports keep BODY_LIMIT_BYTES, which
 * stays the ceiling of every route.
 */
const ROUTE_LIMITS = [
  { method: 'POST', url: '/v1/models/:id/predict', setting: 'PREDICT_BODY_LIMIT_BYTES' },
  { method: 'POST', url: '/v1/registry/:name/predict', setting: 'PREDICT_BODY_LIMIT_BYTES' },
  { method: 'POST', url: '/v1/jobs', setting: 'JOB_BODY_LIMIT_BYTES' },
  { method: 'POST', url: '/v1/sweeps', setting: 'JOB_BODY_LIMIT_BYTES' },
] as const;
export type RouteLimitSetting = (typeof ROUTE_LIMITS)[number]['setting'];

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

type Inflatable = 'gzip' | 'deflate';

/**
 * A request body sent with Content-Encoding gzip (or x-gzip) or deflate (zlib), inflated as it is read: the parsers
 * see the inflated bytes, so the body limit applies to them. receivedEncodedLength counts the bytes as they arrive,
 * for Fastify's checks of Content-Length (its preParsing contract). Nothing is read before a parser asks (a route
 * may answer without reading, e.g. over quota). A stream that does not inflate (corrupt, cut short) fails with a
 * 400; like an IncomingMessage, errors are emitted only to a reader that listens for them, and the request itself
 * is never destroyed on the way, so the answer reaches the client.
 */
class InflatedBody extends Readable {
  receivedEncodedLength = 0;
  private inflater: Gunzip | Inflate | undefined;

  constructor(
    private readonly encoded: Readable,
    private readonly encoding: Inflatable,
  ) {
    super();
  }

  override _read(): void {
    if (this.inflater) {
      this.inflater.resume();
      return;
    }
    const { encoded, encoding } = this;
    const inflater = (this.inflater = encoding === 'gzip' ? createGunzip() : createInflate());
    inflater.on('data', (chunk: Buffer) => this.push(chunk) || inflater.pause());
    inflater.on('end', () => this.push(null));
    inflater.on('error', (err: Error) => {
      this.destroy(Errors.BAD_REQUEST(`request body is not valid ${encoding} (Content-Encoding: ${encoding}): ${err.message}`, { field: 'headers.content-encoding' }));
    });
    encoded.on('error', (err) => this.destroy(err));
    encoded.on('data', (chunk: Buffer) => (this.receivedEncodedLength += chunk.length));
    encoded.pipe(inflater);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    callback(err && this.listenerCount('error') > 0 ? err : null);
  }

  /** Stops inflating; the body as it arrives, for the rest to be discarded. */
  stopInflating(): Readable {
    if (this.inflater) {
      this.encoded.unpipe(this.inflater);
      this.inflater.destroy();
    }
    this.destroy();
    return this.encoded;
  }
}

/** The body as the parsers read it: inflated for Content-Encoding gzip or deflate; 415 naming another encoding. */
function decodedBody(request: FastifyRequest, payload: Readable): Readable {
  const header = request.headers['content-encoding'];
  if (header === undefined || request.headers['content-length'] === '0') return payload;
  const codings = header.split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '' && c !== 'identity');
  if (codings.length === 0) return payload;
  const coding = codings.length === 1 ? ({ gzip: 'gzip', 'x-gzip': 'gzip', deflate: 'deflate' } as const)[codings[0]] : undefined;
  if (!coding) {
    throw Errors.UNSUPPORTED_MEDIA_TYPE(`Content-Encoding ${JSON.stringify(header)} is not supported: send the body as is, or with gzip or deflate`, {
      field: 'headers.content-encoding',
    });
  }
  return new InflatedBody(payload, coding);
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
  if (payload instanceof InflatedBody) {
    // Inflating the rest only to discard it is wasted work: the bytes as they arrive are discarded, and counted.
    return discardBody(request, payload.stopInflating(), payload.receivedEncodedLength);
  }
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
  // A client that goes away mid-body, or a compressed body that does not inflate (already a coded error). Errors
  // never destroy the request itself, so an answer can still be sent.
  finished(payload, (err) => err && body.destroy(err instanceof ApiError ? err : Errors.BAD_REQUEST('the request body was not received completely')));
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

export default fp<{ maxJsonContainers: number; routeLimits: Record<RouteLimitSetting, number> }>(
  async (app, opts) => {
    app.addHook('onRoute', (route) => {
      const limited = ROUTE_LIMITS.find((r) => r.url === route.url && [route.method].flat().includes(r.method));
      const bytes = limited && opts.routeLimits[limited.setting];
      if (!limited || bytes === undefined || bytes >= (app.initialConfig.bodyLimit ?? Infinity)) return;
      route.bodyLimit = bytes;
      route.config = { ...route.config, bodyLimitSetting: limited.setting };
    });
    app.addHook('preParsing', (request, _reply, payload, done) => {
      try {
        done(null, decodedBody(request, payload));
      } catch (err) {
        done(err as Error, undefined);
      }
    });
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
