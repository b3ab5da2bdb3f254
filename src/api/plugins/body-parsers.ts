// Request bodies must be valid UTF-8: Fastify's own parsers would silently turn invalid bytes into U+FFFD and
// store them. JSON keeps Fastify's parser (secure-json-parse, prototype poisoning refused) after two checks; CSV
// (text/csv, or text/plain) arrives as text for the dataset route. A charset other than UTF-8 answers 415.
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Errors } from '../errors.js';

/** No request needs more than a handful of levels; nesting is where JSON.parse spends time and memory. */
const MAX_JSON_DEPTH = 64;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decode(request: FastifyRequest, body: Buffer): string {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(request.headers['content-type'] ?? '')?.[1];
  if (charset && !/^utf-?8$/i.test(charset)) {
    throw Errors.UNSUPPORTED_MEDIA_TYPE(`charset ${JSON.stringify(charset)} is not supported: send UTF-8`);
  }
  try {
    return utf8.decode(body);
  } catch {
    throw Errors.BAD_REQUEST('request body is not valid UTF-8');
  }
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
