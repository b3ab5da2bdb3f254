// text/csv (and text/plain) bodies of POST /v1/datasets, encoded while they arrive: the bytes pass the body checks
// (charset, body limit, UTF-8) into csv-parse, and each row goes straight into float32 storage, so an upload never
// exists as one string or a table of strings. The content-type parser answers a CsvUpload: the encoded dataset, or
// the error to answer (of the dataset, or invalid UTF-8), which the route raises after the idempotency check, where
// dataset errors have always been raised. Reading stops at the first error and the rest of the body is discarded
// unread, so the client still gets the answer. The body limit (413) and a wrong charset (415) stop the request in
// the parser, as Fastify's own parsers do. Cells are separated by ?delimiter=, a tab for text/tab-separated-values,
// or the delimiter detected on the header line; a body with Content-Encoding gzip or deflate arrives here inflated
// (body-parsers.ts), so the limit, the checks and the hash all concern the CSV text itself.
import type { FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { columnTypeSchema, csvDatasetQuerySchema, type ColumnType } from '../../contracts/datasets.js';
import { DatasetError, DatasetTooLargeError } from '../../data/dataset-error.js';
import { encodeCsv, type DatasetLimits, type EncodedDataset, type TableOptions } from '../../data/encode-dataset.js';
import { encodeSequenceCsv } from '../../data/encode-sequences.js';
import type { Delimiter } from '../../data/parse-csv.js';
import { ApiError, Errors } from '../errors.js';
import { checkTextHeaders, discardBody, utf8BodyStream } from '../plugins/body-parsers.js';

export class CsvUpload {
  constructor(
    readonly result: { name: string; dataset: EncodedDataset } | { error: ApiError },
    /**
     * SHA-256 of the text read (inflated, for a compressed body): the whole body, unless reading stopped at an error
     * ('' when the query made reading pointless). The same CSV sent plain or compressed is the same request.
     */
    readonly sha256: string,
  ) {}

  /** What the idempotency plugin hashes as the body of the request. */
  toJSON(): { csvSha256: string } {
    return { csvSha256: this.sha256 };
  }
}

/** A DatasetError as the API error the route answers with; anything else as it is. */
export function datasetApiError(err: unknown): unknown {
  if (err instanceof DatasetTooLargeError) return Errors.DATASET_TOO_LARGE(err.message, err.details);
  if (err instanceof DatasetError) return Errors.INVALID_DATASET(err.message, err.details);
  return err;
}

type CsvQuery = z.infer<typeof csvDatasetQuerySchema>;

const TSV = 'text/tab-separated-values';

/** The delimiter asked for (?delimiter=, or a tab for a TSV body); undefined to detect it on the header line. */
function chosenDelimiter(asked: CsvQuery['delimiter'], tsv: boolean): Delimiter | undefined | ApiError {
  const delimiter = asked === 'tab' || asked === '\\t' ? '\t' : asked;
  if (tsv && delimiter !== undefined && delimiter !== '\t') {
    return Errors.VALIDATION(`querystring.delimiter: ${JSON.stringify(delimiter)} contradicts Content-Type ${TSV}, whose cells are separated by tabs`, {
      field: 'querystring.delimiter',
    });
  }
  return delimiter ?? (tsv ? '\t' : undefined);
}

/** What the query asks for, or the error to answer. */
function csvRequest(query: CsvQuery, tsv: boolean): { name: string; encode: (body: Readable, limits: DatasetLimits) => Promise<EncodedDataset> } | ApiError {
  const { name, target, sequence, perStepTargets } = query;
  const options = tableOptions(query);
  if (options instanceof ApiError) return options;
  const delimiter = chosenDelimiter(query.delimiter, tsv);
  if (delimiter instanceof ApiError) return delimiter;
  if (!name) return Errors.VALIDATION('querystring.name: required for text/csv uploads', { field: 'querystring.name' });
  if (!target) return Errors.VALIDATION('querystring.target: required for text/csv uploads', { field: 'querystring.target' });
  if (perStepTargets !== undefined && sequence === undefined) {
    return Errors.VALIDATION('querystring.perStepTargets: only for sequence CSVs, which also need querystring.sequence', {
      field: 'querystring.perStepTargets',
    });
  }
  const targets = target.split(',').map((t) => t.trim());
  return {
    name,
    encode: (body, limits) =>
      sequence === undefined
        ? encodeCsv(body, targets, limits, { ...options, delimiter })
        : encodeSequenceCsv(body, { target: targets, sequence, perStepTargets: perStepTargets === 'true', delimiter }, limits),
  };
}

const splitList = (list: string | undefined) => (list ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');

/** ?ignore=a,b&columnTypes=c:categorical,d:boolean, or the error naming what is wrong with them. */
function tableOptions(query: CsvQuery): TableOptions | ApiError {
  const columnTypes: Record<string, ColumnType> = {};
  for (const pair of splitList(query.columnTypes)) {
    const at = pair.lastIndexOf(':');
    const type = columnTypeSchema.safeParse(at < 0 ? '' : pair.slice(at + 1).trim());
    if (at <= 0 || !type.success) {
      return Errors.VALIDATION(`querystring.columnTypes: expected column:type pairs with a type of ${columnTypeSchema.options.join(', ')}, got "${pair}"`, {
        field: 'querystring.columnTypes',
      });
    }
    columnTypes[pair.slice(0, at).trim()] = type.data;
  }
  if ((query.ignore !== undefined || query.columnTypes !== undefined) && query.sequence !== undefined) {
    return Errors.VALIDATION('querystring.ignore, querystring.columnTypes: only for tabular CSVs (not with querystring.sequence)', {
      field: query.ignore !== undefined ? 'querystring.ignore' : 'querystring.columnTypes',
    });
  }
  return { ignore: splitList(query.ignore), columnTypes };
}

export function csvUploadParser(limits: DatasetLimits) {
  return async (request: FastifyRequest, payload: Readable): Promise<CsvUpload> => {
    const query = csvDatasetQuerySchema.safeParse(request.query);
    // An invalid query string is answered by the route's schema validation, with its details; the body is not read.
    const tsv = request.headers['content-type']?.trim().toLowerCase().startsWith(TSV) === true;
    const wanted = query.success ? csvRequest(query.data, tsv) : Errors.VALIDATION('querystring is invalid');
    if (wanted instanceof ApiError) {
      checkTextHeaders(request);
      discardBody(request, payload);
      return new CsvUpload({ error: wanted }, '');
    }
    const { body, sha256, discardRest } = utf8BodyStream(request, payload);
    try {
      const dataset = await wanted.encode(body, limits);
      return new CsvUpload({ name: wanted.name, dataset }, sha256());
    } catch (err) {
      const error = datasetApiError(err);
      if (!(error instanceof ApiError)) throw err; // over the body limit (Fastify's 413), or unexpected
      discardRest();
      return new CsvUpload({ error }, sha256());
    }
  };
}

export const csvBodySchema = z
  .custom<CsvUpload>((body) => body instanceof CsvUpload, {
    error: 'expected a JSON object { name, columns, rows, target } or { name, sequences, targets }, or a text/csv body',
  })
  // The OpenAPI document shows what a client sends: the CSV text.
  .meta({
    type: 'string',
    description:
      'CSV text with a header row; send Content-Type: text/csv (or text/tab-separated-values) with ?name=&target= (and ' +
      '&sequence= for a sequence CSV), optionally compressed with Content-Encoding: gzip or deflate',
  });
