// The generator behind fuzz.test.ts: from a seed, malformed requests for every route of the OpenAPI document.
// Every case is wrong in a way the route must notice (a wrong type, a value out of range, a broken encoding, a
// size over a limit...), so every answer must be a 4xx. Field rules list only values that are invalid where they
// are put; mutating a value into another valid one would make the case meaningless.
import { randomUUID } from 'node:crypto';
import type { HttpRequest } from '../helpers/http.js';

/** mulberry32: small, seedable, good enough to pick cases. */
export class Rng {
  constructor(private state: number) {}
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

export interface FuzzContext {
  adminKey: string;
  tenantKey: string;
  revokedKey: string;
  otherTenantKey: string;
  tenantId: string;
  keyId: string;
  datasetId: string;
  jobId: string;
  modelId: string;
  /** A sweep over the dataset (its trial jobs queued: no worker runs). */
  sweepId: string;
  /** A registry name whose only version is the fuzz model. */
  modelName: string;
  /** A tenant already deleted: DELETE /v1/tenants/{id} answers 404 even to its valid request. */
  deletedTenantId: string;
  limits: { bodyBytes: number; maxRows: number; maxColumns: number; maxCells: number; maxEpochs: number };
}

export interface FuzzCase {
  route: string;
  family: string;
  description: string;
  /** Sent with node:http ... */
  request?: HttpRequest;
  /** ... or written as raw bytes on a socket. */
  raw?: Buffer;
}

type Path = (string | number)[];
/** A JSON token JSON.stringify cannot write (1e999 parses to Infinity, NaN is not JSON at all). */
class RawToken {
  constructor(readonly text: string) {}
}
type Value = unknown;
interface FieldRule {
  path: Path;
  invalid: readonly Value[];
}

const raw = (text: string) => new RawToken(text);
const NOT_NUMBERS = ['abc', 'NaN', 'Infinity', '', '1e999', true, null, {}, [], [1]] as const;
const NOT_STRINGS = [123, -1.5, true, null, {}, [1, 2], ['x']] as const;
const HUGE_AND_NEGATIVE = [1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, -1, -0.5, raw('1e999'), raw('-1e999'), raw('NaN'), raw('Infinity')];
const UUID_NIL = '00000000-0000-0000-0000-000000000000';

function serialize(value: Value): string {
  const tokens: string[] = [];
  const text = JSON.stringify(value, (_k, v) => {
    if (v instanceof RawToken) {
      tokens.push(v.text);
      return `\u0001RAW${tokens.length - 1}\u0001`;
    }
    return v;
  });
  return text.replace(/"\\u0001RAW(\d+)\\u0001"/g, (_m, i: string) => tokens[Number(i)]);
}

/** The container holding path's last key in copy, or null when an earlier mutation replaced part of the path. */
function parentOf(copy: Value, path: Path): Record<string | number, Value> | null {
  let node = copy;
  for (const key of path.slice(0, -1)) {
    if (!node || typeof node !== 'object') return null;
    node = (node as Record<string | number, Value>)[key];
  }
  return node && typeof node === 'object' ? (node as Record<string | number, Value>) : null;
}

function setAt(target: Value, path: Path, value: Value): Value {
  if (path.length === 0) return value;
  const copy = structuredClone(target);
  const parent = parentOf(copy, path);
  if (parent) parent[path[path.length - 1]] = value;
  return parent ? copy : target;
}

function deleteAt(target: Value, path: Path): Value {
  const copy = structuredClone(target);
  const parent = parentOf(copy, path);
  if (parent) delete parent[path[path.length - 1]];
  return copy;
}

/** Paths of every plain object inside value (where an unknown key must be refused). */
function objectPaths(value: Value, path: Path = []): Path[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => objectPaths(v, [...path, i]));
  if (value && typeof value === 'object') {
    return [path, ...Object.entries(value).flatMap(([k, v]) => objectPaths(v, [...path, k]))];
  }
  return [];
}

const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

// ---------------------------------------------------------------------------------------------- route templates

const layer = (units: number, activation: string) => ({ type: 'dense', units, activation });

function jobBody(ctx: FuzzContext) {
  return {
    datasetId: ctx.datasetId,
    model: { layers: [layer(8, 'relu'), layer(3, 'softmax')], loss: 'categoricalCrossEntropy' },
    training: {
      optimizer: { type: 'adam', learningRate: 0.01 },
      epochs: 5,
      batchSize: 16,
      validationSplit: 0.2,
      seed: 1,
      checkpointEvery: 5,
      earlyStopping: { patience: 3 },
      shuffle: true,
    },
    preprocessing: { standardize: true },
  };
}

const jobRules = (ctx: FuzzContext): FieldRule[] => [
  { path: ['datasetId'], invalid: ['x', 'not-a-uuid', 42, null, UUID_NIL, randomUUID(), `${ctx.datasetId}x`, ctx.datasetId.toUpperCase().replace(/-/g, '')] },
  { path: ['model'], invalid: [null, 'dense', [], 5, {}] },
  { path: ['model', 'layers'], invalid: [[], 'dense', {}, null, Array.from({ length: 33 }, () => layer(3, 'softmax')), [layer(3, 'relu'), 5]] },
  { path: ['model', 'layers', 0, 'units'], invalid: [0, 4097, 1e9, 2.5, '8', ...HUGE_AND_NEGATIVE, ...NOT_NUMBERS] },
  { path: ['model', 'layers', 1, 'units'], invalid: [2, 4, 1, 4096] }, // must match the 3 classes: 422
  { path: ['model', 'layers', 0, 'activation'], invalid: ['gelu', 'RELU', '', 1, null] },
  { path: ['model', 'layers', 1, 'activation'], invalid: ['relu', 'sigmoid', 'linear'] }, // softmax required by the loss: 422
  { path: ['model', 'layers', 0, 'type'], invalid: ['conv2d', 'lstm ', '', null, 1] },
  { path: ['model', 'layers', 0, 'kernelInitializer'], invalid: ['zeros', 1, null] },
  { path: ['model', 'loss'], invalid: ['hinge', '', 'MSE', 3, null, []] },
  { path: ['training'], invalid: [null, 'fast', 5, []] },
  { path: ['training', 'epochs'], invalid: [0, 2.5, 1e12, ctx.limits.maxEpochs + 1, 1_000_001, '10', ...HUGE_AND_NEGATIVE] },
  { path: ['training', 'batchSize'], invalid: [0, 65_537, 0.5, '16', ...HUGE_AND_NEGATIVE] },
  { path: ['training', 'validationSplit'], invalid: [1, 1.5, -0.1, 0.0001, '0.2', raw('1e999'), raw('NaN')] },
  { path: ['training', 'seed'], invalid: [-1, 2 ** 32, 1.5, '7', raw('1e999')] },
  { path: ['training', 'checkpointEvery'], invalid: [0, 10_001, -3, 'x'] },
  { path: ['training', 'weightDecay'], invalid: [-1, -1e308, 'x', raw('1e999'), raw('-Infinity')] },
  { path: ['training', 'clipNorm'], invalid: [0, -1, 'x', raw('1e999')] },
  { path: ['training', 'shuffle'], invalid: ['yes', 1, null] },
  { path: ['training', 'optimizer'], invalid: [{ type: 'rmsprop' }, {}, 'adam', null, { type: 'sgd', beta1: 0.9 }] },
  { path: ['training', 'optimizer', 'type'], invalid: ['rmsprop', '', 'ADAM', 1, null] },
  { path: ['training', 'optimizer', 'learningRate'], invalid: [0, 11, 1e308, -0.01, raw('1e999'), raw('1e-999'), '0.01', null] },
  { path: ['training', 'earlyStopping'], invalid: [{}, { patience: 0 }, { patience: 'x' }, { patience: 10_001 }, 3, null] },
  { path: ['training', 'earlyStopping', 'minDelta'], invalid: [-1, 'x', raw('1e999')] },
  { path: ['preprocessing'], invalid: [null, 'standardize', { standardize: 'yes' }] },
  { path: ['preprocessing', 'standardize'], invalid: ['true', 1, null] },
];

const jobRequired: Path[] = [['datasetId'], ['model'], ['model', 'layers'], ['model', 'loss'], ['model', 'layers', 0, 'units'], ['model', 'layers', 0, 'activation'], ['model', 'layers', 0, 'type'], ['training', 'optimizer', 'type'], ['training', 'earlyStopping', 'patience']];

function sweepBody(ctx: FuzzContext) {
  const { datasetId, model, training, preprocessing } = jobBody(ctx);
  return {
    datasetId,
    base: { model, training, preprocessing },
    space: { 'training.optimizer.learningRate': { choice: [0.01, 0.02] }, 'model.layers[0].units': { choice: [4, 8] } },
    strategy: 'grid',
    parallelism: 1,
    objective: 'valLoss',
  };
}

const SPACE = ['space'];
const sweepRules = (ctx: FuzzContext): FieldRule[] => [
  { path: ['datasetId'], invalid: ['x', 42, null, UUID_NIL, randomUUID()] },
  { path: ['base'], invalid: [null, 'x', [], {}] },
  { path: ['base', 'model', 'layers', 1, 'units'], invalid: [2, 4, 0, 'x'] },
  { path: ['base', 'training', 'epochs'], invalid: [0, ctx.limits.maxEpochs + 1, 1e12, 'x'] },
  { path: SPACE, invalid: [null, [], 'x', {}, { 'model.layers[9].units': { choice: [1] } }, { '': { choice: [1] } }, { 'a..b': { choice: [1] } }, { 'model.layers[0].units': { choice: [] } }, { 'model.layers[0].units': { intRange: [8, 4] } }, { 'model.layers[0].units': { uniform: [1e308, -1e308] } }, { 'model.layers[0].units': { choice: [0, 'x', null] } }, { 'model.layers[0].units': { logUniform: [0, 1] } }, { 'model.layers[0].units': { choice: Array.from({ length: 1001 }, (_, i) => i) } }, { 'model.layers[0].units': { nope: [1] } }, { 'training.optimizer': { choice: [{ type: 'rmsprop' }] } }, { 'model.__proto__': { choice: [1] } }, { constructor: { choice: [1] } }] },
  { path: ['strategy'], invalid: ['bayes', '', null, 1, 'GRID'] },
  { path: ['trials'], invalid: [0, -1, 1.5, 5, 1e12, 'x', null] },
  { path: ['parallelism'], invalid: [0, 65, 1.5, 'x', null] },
  { path: ['objective'], invalid: ['loss', 'rmse', '', 1, null] },
  { path: ['halving'], invalid: [{ eta: 3 }, { eta: 1 }, 'x', null] },
];

/** Absurd but well-typed specs: they pass the schema and must be refused before anything is allocated (422). */
const absurdSpecs = [
  { layers: Array.from({ length: 32 }, (_, i) => layer(i === 31 ? 3 : 4096, i === 31 ? 'softmax' : 'relu')), loss: 'categoricalCrossEntropy' },
  { layers: [layer(4096, 'relu'), layer(4096, 'relu'), layer(3, 'softmax')], loss: 'categoricalCrossEntropy' },
  { layers: [layer(4096, 'tanh'), layer(4096, 'tanh'), layer(4096, 'tanh'), layer(3, 'softmax')], loss: 'categoricalCrossEntropy' },
];

function datasetBody() {
  const rows = Array.from({ length: 12 }, (_, i) => [i, i * 0.5, 3 - i, i % 4, ['x', 'y', 'z'][i % 3]]);
  return { name: 'fuzz', columns: ['a', 'b', 'c', 'd', 'species'], rows, target: 'species' };
}

const datasetRules = (ctx: FuzzContext): FieldRule[] => {
  const row = (cells: Value[]) => [[0, 1, 2, 3, 'x'], cells];
  return [
    { path: ['name'], invalid: ['', '   ', 'x'.repeat(201), 'a\u0000b', '\ud800', 'x\udc00y', ...NOT_STRINGS] },
    {
      path: ['columns'],
      invalid: [[], ['a'], 'a,b', [1, 2, 3, 4, 5], ['a', 'a', 'b', 'c', 'species'], ['a', 'b', 'c', '', 'species'], ['a', 'b', 'c', '  ', 'species'], ['a', 'b\u0000', 'c', 'd', 'species'], ['a', '\ud800', 'c', 'd', 'species'], ['a', 'b', 'c', '__proto__', 'species'], ['a', 'b', 'c', 'x'.repeat(201), 'species'], null],
    },
    {
      path: ['rows'],
      invalid: [[], 'x', {}, null, [[]], row([1, 2, 3, 4]), row([1, 2, 3, 4, 'x', 6]), row([1, 'Infinity', 3, 4, 'x']), row([1e39, 2, 3, 4, 'x']), row([-1e300, 2, 3, 4, 'x']), row([1, 2, 3, 4, 'a\u0000']), row([1, 2, 3, 4, '\udfff']), row([1, 2, 3, 4, '__proto__']), row([1, 2, 3, 4, 'y'.repeat(201)]), row([{}, 2, 3, 4, 'x']), [[[[1]]]], [{ a: 1 }], row([raw('1e999'), 2, 3, 4, 'x'])],
    },
    // Empty and null cells are missing values (imputed); a label among numbers, or an infinite number, is not.
    { path: ['rows', 3, 0], invalid: ['one', '1,5', '0x', '--1', true, {}, [], 'Infinity', '-1e39', raw('1e999'), raw('-1e999'), 3.5e38, -3.5e38] },
    { path: ['target'], invalid: ['', 'zzz', 'SPECIES', ['a', 'b', 'c', 'd', 'species'], ['species', 'species'], [], ['a', 5], 5, null, {}, ['a', 'species'], 'a\u0000'] },
    { path: ['rows'], invalid: [Array.from({ length: ctx.limits.maxRows + 1 }, (_, i) => [i, 1, 2, 3, 'x'])] },
    { path: ['rows'], invalid: [Array.from({ length: 4097 }, (_, i) => [i, 1, 2, 3, `class${i}`])] },
  ];
};

function predictBody(keyed: boolean) {
  return keyed ? { inputs: [{ a: 1, b: 2, c: 3, d: 4 }, { a: 0, b: 0, c: 0, d: 0 }] } : { inputs: [[1, 2, 3, 4], [0, 0, 0, 0]] };
}

const predictRules: FieldRule[] = [
  {
    path: ['inputs'],
    invalid: [[], 'x', {}, null, 5, [[]], [[1, 2, 3]], [[1, 2, 3, 4, 5]], [['1', 2, 3, 4]], [[null, 2, 3, 4]], [[1e39, 2, 3, 4]], [[-1e300, 0, 0, 0]], [[3e38, 3e38, 3e38, 3e38]], [[1, 2, 3, raw('1e999')]], [{ a: 1, b: 2, c: 3 }], [{ a: 1, b: 2, c: 3, d: 4, e: 5 }], [{ a: '1', b: 2, c: 3, d: 4 }], [{}], [[[1, 2, 3, 4]]], Array.from({ length: 10_001 }, () => [1, 2, 3, 4]), [{ a: 1, b: 2, c: 3, constructor: 4 }], [[1, 2, 3, 4], [1, 2]], [{ a: 3e38, b: 3e38, c: 3e38, d: 3e38 }]],
  },
  { path: ['inputs', 0, 0], invalid: ['x', null, true, [], {}, raw('1e999'), raw('NaN'), 1e39] },
];

/** A valid POST /v1/models document: a 4-3 softmax layer of zeros. */
function importBody(): Value {
  return {
    format: 'backprop-service/model@1',
    dtype: 'float32',
    spec: { inputSize: 4, layers: [{ type: 'dense', units: 3, activation: 'softmax' }], loss: 'categoricalCrossEntropy' },
    weights: [{ kernel: Buffer.alloc(4 * 3 * 4).toString('base64'), bias: Buffer.alloc(3 * 4).toString('base64') }],
    features: ['a', 'b', 'c', 'd'],
    targets: ['species'],
    classes: ['x', 'y', 'z'],
    preprocessing: { standardize: false },
  };
}

const importRules: FieldRule[] = [
  { path: ['format'], invalid: ['', 'keras', 'backprop-engine/model@1', ...NOT_STRINGS] },
  { path: ['dtype'], invalid: ['float16', 'FLOAT32', '', ...NOT_STRINGS] },
  { path: ['spec', 'inputSize'], invalid: [0, -1, 1.5, 3, 5, 1e9, 'x', null, raw('1e999')] },
  { path: ['spec', 'loss'], invalid: ['meanAbsoluteError', 'binaryCrossEntropy', '', null] },
  { path: ['spec', 'layers'], invalid: [[], null, 'x', [{ type: 'dense', units: 0, activation: 'softmax' }], [{ type: 'dense', units: 4, activation: 'softmax' }], [{ type: 'lstm', units: 3 }], Array.from({ length: 33 }, () => ({ type: 'dense', units: 3, activation: 'relu' }))] },
  { path: ['spec', 'layers', 0, 'units'], invalid: [0, -3, 2, 4, 4097, 1.5, 'x', null] },
  { path: ['weights'], invalid: [[], null, 'x', [{}], [{ kernel: 'AAAA', bias: 'AAAA' }], [{ kernel: '', bias: '' }, { kernel: '', bias: '' }]] },
  { path: ['weights', 0, 'kernel'], invalid: ['', 'AAAA', '@@@@', 'A'.repeat(10_000), 1, null, {}] },
  { path: ['weights', 0, 'bias'], invalid: ['', 'AAAAAAAAAAAAAAAAAAAA', '!!', null, []] },
  { path: ['features'], invalid: [[], ['a'], ['a', 'b', 'c', 'd', 'e'], ['a', 'b', 'c', ''], ['a', 'b', 'c', 'd\u0000'], [1, 2, 3, 4], null, 'abcd'] },
  { path: ['targets'], invalid: [[], ['a', 'b'], [''], null, 'species'] },
  { path: ['classes'], invalid: [[], ['x'], ['x', 'y'], ['x', 'y', 'z', 'w'], 'xyz', null, [1, 2, 3]] },
  { path: ['preprocessing'], invalid: [null, {}, { standardize: true }, { standardize: true, mean: [0, 0, 0, 0] }, { standardize: true, mean: [0, 0, 0, 0], std: [1, 0, 1, 1] }, { standardize: true, mean: [0], std: [1] }, { standardize: 'yes' }] },
];

const aliasRules: FieldRule[] = [{ path: ['version'], invalid: [0, -1, 1.5, 2 ** 31, '1', 'v1', true, null, {}, [], [1], ...HUGE_AND_NEGATIVE] }];

const tenantRules: FieldRule[] = [{ path: ['name'], invalid: ['', '   ', 'x'.repeat(201), 'nul\u0000', '\ud800', ...NOT_STRINGS] }];
/** Budgets: whole numbers from 1 to 1e9, or null (the default). The valid body keeps the fuzz tenant's budgets huge. */
const BAD_BUDGETS = [0, -1, 1.5, 1e10, '10', true, {}, [], [1], ...HUGE_AND_NEGATIVE.filter((v) => v !== 1e308 && v !== Number.MAX_SAFE_INTEGER + 2)];
const rateLimitRules: FieldRule[] = [
  { path: ['requests'], invalid: BAD_BUDGETS },
  { path: ['predictions'], invalid: BAD_BUDGETS },
];
/** Quotas: whole numbers from 0 (nothing more allowed) up, or null (the default). The valid body keeps them huge. */
const BAD_QUOTAS = [1.5, '10', true, {}, [], [1], ...HUGE_AND_NEGATIVE];
const quotaRules: FieldRule[] = [
  { path: ['storageBytes'], invalid: BAD_QUOTAS },
  { path: ['datasets'], invalid: [...BAD_QUOTAS, 1e10] },
  { path: ['models'], invalid: [...BAD_QUOTAS, 1e10] },
];

// ---------------------------------------------------------------------------------------------- routes

type Auth = 'tenant' | 'admin' | 'none';
type Query = Partial<Record<string, string | string[]>>;

interface RouteSpec {
  method: string;
  /** As in the OpenAPI document: /v1/jobs/{id} */
  path: string;
  auth: Auth;
  params: (ctx: FuzzContext) => Record<string, string>;
  query?: { valid: (ctx: FuzzContext) => Record<string, string>; invalid: (ctx: FuzzContext) => Query[] };
  json?: { template: (ctx: FuzzContext, rng: Rng) => Value; rules: (ctx: FuzzContext) => FieldRule[]; required: Path[] };
  csv?: boolean;
  idempotent?: boolean;
}

export function routeSpecs(): RouteSpec[] {
  const none = () => ({});
  const id = (key: keyof FuzzContext) => (ctx: FuzzContext) => ({ id: ctx[key] as string });
  return [
    { method: 'GET', path: '/health', auth: 'none', params: none },
    { method: 'GET', path: '/ready', auth: 'none', params: none },
    { method: 'POST', path: '/v1/tenants', auth: 'admin', params: none, json: { template: () => ({ name: 'acme' }), rules: () => tenantRules, required: [['name']] } },
    { method: 'DELETE', path: '/v1/tenants/{id}', auth: 'admin', params: id('deletedTenantId') },
    { method: 'GET', path: '/v1/tenants/{id}/keys', auth: 'admin', params: id('tenantId') },
    { method: 'POST', path: '/v1/tenants/{id}/keys', auth: 'admin', params: id('tenantId') },
    { method: 'DELETE', path: '/v1/tenants/{id}/keys/{keyId}', auth: 'admin', params: (ctx) => ({ id: ctx.tenantId, keyId: ctx.keyId }) },
    {
      method: 'POST',
      path: '/v1/datasets',
      auth: 'tenant',
      params: none,
      json: { template: datasetBody, rules: datasetRules, required: [['name'], ['columns'], ['rows'], ['target']] },
      csv: true,
      idempotent: true,
      query: {
        valid: () => ({ name: 'fuzz', target: 'species' }),
        invalid: () => [{ target: 'species' }, { name: 'fuzz' }, {}, { name: '', target: 'species' }, { name: 'x'.repeat(201), target: 'species' }, { name: 'a\u0000', target: 'species' }, { name: 'fuzz', target: '' }, { name: 'fuzz', target: 'nope' }, { name: 'fuzz', target: 'species,species' }, { name: 'fuzz', target: 'a,b,c,d,species' }, { name: 'fuzz', target: 'spe\u0000cies' }],
      },
    },
    {
      method: 'GET',
      path: '/v1/datasets',
      auth: 'tenant',
      params: none,
      query: {
        valid: () => ({ limit: '5' }),
        invalid: () => [{ limit: '0' }, { limit: '101' }, { limit: 'abc' }, { limit: '1e999' }, { limit: ['1', '2'] }, { cursor: 'x' }, { cursor: UUID_NIL }, { cursor: randomUUID() }, { name: 'x'.repeat(201) }, { page: '2' }],
      },
    },
    {
      method: 'GET',
      path: '/v1/models',
      auth: 'tenant',
      params: none,
      query: {
        valid: (ctx) => ({ limit: '5', name: ctx.modelName }),
        invalid: (ctx) => [{ limit: '0' }, { limit: '101' }, { limit: 'NaN' }, { cursor: 'x' }, { cursor: randomUUID() }, { cursor: ctx.jobId }, { name: '-bad' }, { name: '' }, { jobId: 'x' }, { datasetId: '1' }, { sort: 'asc' }],
      },
    },
    { method: 'GET', path: '/v1/datasets/{id}', auth: 'tenant', params: id('datasetId') },
    // The queued fuzz job uses the dataset, and is itself not finished: both DELETEs answer 409 at best.
    { method: 'DELETE', path: '/v1/datasets/{id}', auth: 'tenant', params: id('datasetId') },
    {
      method: 'POST',
      path: '/v1/jobs',
      auth: 'tenant',
      params: none,
      json: { template: jobBody, rules: jobRules, required: jobRequired },
      idempotent: true,
    },
    {
      method: 'GET',
      path: '/v1/jobs',
      auth: 'tenant',
      params: none,
      query: {
        valid: () => ({ limit: '5' }),
        invalid: () => [{ limit: '0' }, { limit: '-1' }, { limit: '101' }, { limit: '1.5' }, { limit: 'abc' }, { limit: '' }, { limit: '1e999' }, { limit: 'Infinity' }, { limit: 'NaN' }, { limit: ['1', '2'] }, { limit: '99999999999999999999' }, { status: 'done' }, { status: '' }, { status: 'QUEUED' }, { status: ['queued', 'running'] }, { cursor: 'x' }, { cursor: UUID_NIL }, { cursor: randomUUID() }, { cursor: '1' }, { cursor: ['a', 'b'] }],
      },
    },
    { method: 'GET', path: '/v1/jobs/{id}', auth: 'tenant', params: id('jobId') },
    { method: 'DELETE', path: '/v1/jobs/{id}', auth: 'tenant', params: id('jobId') },
    { method: 'GET', path: '/v1/jobs/{id}/metrics', auth: 'tenant', params: id('jobId') },
    { method: 'POST', path: '/v1/jobs/{id}/cancel', auth: 'tenant', params: id('jobId') },
    { method: 'GET', path: '/v1/models/{id}', auth: 'tenant', params: id('modelId') },
    // An alias points to the fuzz model: 409 at best.
    { method: 'DELETE', path: '/v1/models/{id}', auth: 'tenant', params: id('modelId') },
    {
      method: 'POST',
      path: '/v1/models/{id}/predict',
      auth: 'tenant',
      params: id('modelId'),
      json: { template: (_ctx, rng) => predictBody(rng.chance(0.5)), rules: () => predictRules, required: [['inputs']] },
    },
    {
      method: 'POST',
      path: '/v1/models/{id}/evaluate',
      auth: 'tenant',
      params: id('modelId'),
      json: {
        template: (ctx) => ({ datasetId: ctx.datasetId }),
        // The fuzz model predicts a number and the dataset holds classes: even the valid body answers 422.
        rules: (ctx) => [{ path: ['datasetId'], invalid: ['x', 42, null, {}, UUID_NIL, randomUUID(), `${ctx.datasetId}x`] }],
        required: [['datasetId']],
      },
    },
    {
      method: 'POST',
      path: '/v1/sweeps',
      auth: 'tenant',
      params: none,
      json: { template: sweepBody, rules: sweepRules, required: [['datasetId'], ['base'], ['space'], ['strategy'], ['base', 'model']] },
      idempotent: true,
    },
    {
      method: 'GET',
      path: '/v1/sweeps',
      auth: 'tenant',
      params: none,
      query: {
        valid: () => ({ limit: '5' }),
        invalid: () => [{ limit: '0' }, { limit: '101' }, { limit: 'abc' }, { status: 'done' }, { cursor: 'x' }, { cursor: randomUUID() }, { cursor: ['a', 'b'] }, { nmae: 'x' }],
      },
    },
    { method: 'GET', path: '/v1/sweeps/{id}', auth: 'tenant', params: id('sweepId') },
    { method: 'POST', path: '/v1/sweeps/{id}/cancel', auth: 'tenant', params: id('sweepId') },
    { method: 'GET', path: '/v1/jobs/{id}/events', auth: 'tenant', params: id('jobId') },
    { method: 'GET', path: '/v1/jobs/{id}/webhooks', auth: 'tenant', params: id('jobId') },
    { method: 'GET', path: '/v1/tenants/{id}/webhook-secret', auth: 'admin', params: id('tenantId') },
    { method: 'POST', path: '/v1/tenants/{id}/webhook-secret', auth: 'admin', params: id('tenantId') },
    { method: 'GET', path: '/v1/tenants/{id}/rate-limits', auth: 'admin', params: id('tenantId') },
    {
      method: 'PATCH',
      path: '/v1/tenants/{id}/rate-limits',
      auth: 'admin',
      params: id('tenantId'),
      json: { template: () => ({ requests: 1_000_000_000, predictions: 1_000_000_000 }), rules: () => rateLimitRules, required: [] },
    },
    { method: 'GET', path: '/v1/tenants/{id}/quotas', auth: 'admin', params: id('tenantId') },
    {
      method: 'PATCH',
      path: '/v1/tenants/{id}/quotas',
      auth: 'admin',
      params: id('tenantId'),
      json: { template: () => ({ storageBytes: 1e12, datasets: 1_000_000, models: 1_000_000 }), rules: () => quotaRules, required: [] },
    },
    { method: 'GET', path: '/v1/usage', auth: 'tenant', params: none },
    {
      method: 'GET',
      path: '/v1/models/{id}/export',
      auth: 'tenant',
      params: id('modelId'),
      query: { valid: () => ({ format: 'json' }), invalid: () => [{ format: 'xml' }, { format: '' }, { format: 'JSON' }, { format: ['json', 'json'] }, { format: 'tfjs\u0000' }] },
    },
    { method: 'GET', path: '/v1/models/{id}/tfjs/model.json', auth: 'tenant', params: id('modelId') },
    { method: 'GET', path: '/v1/models/{id}/tfjs/weights.bin', auth: 'tenant', params: id('modelId') },
    { method: 'GET', path: '/v1/registry', auth: 'tenant', params: none },
    { method: 'GET', path: '/v1/registry/{name}', auth: 'tenant', params: (ctx) => ({ name: ctx.modelName }) },
    {
      // The name has version 1 only: even the valid body (version 2) answers 404, so no case moves the alias.
      method: 'PUT',
      path: '/v1/registry/{name}/aliases/{alias}',
      auth: 'tenant',
      params: (ctx) => ({ name: ctx.modelName, alias: 'production' }),
      json: { template: () => ({ version: 2 }), rules: () => aliasRules, required: [['version']] },
    },
    // No alias is set: every DELETE answers 404 at best.
    { method: 'DELETE', path: '/v1/registry/{name}/aliases/{alias}', auth: 'tenant', params: (ctx) => ({ name: ctx.modelName, alias: 'production' }) },
    {
      method: 'POST',
      path: '/v1/registry/{name}/predict',
      auth: 'tenant',
      params: (ctx) => ({ name: ctx.modelName }),
      json: { template: (_ctx, rng) => predictBody(rng.chance(0.5)), rules: () => predictRules, required: [['inputs']] },
      query: {
        valid: () => ({}),
        invalid: () => [{ version: '0' }, { version: '-1' }, { version: '1.5' }, { version: 'x' }, { version: '' }, { version: '2' }, { version: '1e999' }, { version: ['1', '1'] }, { alias: 'nope' }, { alias: '' }, { alias: '1st' }, { alias: 'x'.repeat(64) }, { alias: 'a\u0000' }, { alias: 'production', version: '1' }],
      },
    },
    {
      method: 'POST',
      path: '/v1/models',
      auth: 'tenant',
      params: none,
      json: { template: importBody, rules: () => importRules, required: [['format'], ['dtype'], ['spec'], ['weights'], ['features'], ['targets'], ['preprocessing']] },
      idempotent: true,
    },
  ];
}

const fillPath = (path: string, params: Record<string, string>) =>
  path.replace(/\{(\w+)\}/g, (_m, name: string) => params[name]);

function queryString(query: Query): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) for (const item of [v ?? []].flat()) search.append(k, item);
  const text = search.toString();
  return text ? `?${text}` : '';
}

// ---------------------------------------------------------------------------------------------- families

interface Built {
  family: string;
  description: string;
  request?: HttpRequest;
  raw?: Buffer;
}

const INVALID_PARAMS = ['x', '1', 'not-a-uuid', UUID_NIL.slice(1), `${UUID_NIL}0`, 'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz', '%00', '%E0%A4%A', '%FF%FE', '..%2F..%2Fetc%2Fpasswd', 'x'.repeat(2000), "1'%20OR%20'1'='1", '%F0%9F%98%80', '-1', '1e999', 'null', 'undefined', '%20'];

const BAD_UTF8: Buffer[] = [
  Buffer.from([0xff]),
  Buffer.from([0xfe, 0xff]),
  Buffer.from([0xc0, 0xaf]), // overlong "/"
  Buffer.from([0xed, 0xa0, 0x80]), // a UTF-16 surrogate encoded as UTF-8
  Buffer.from([0xe2, 0x82]), // truncated sequence
  Buffer.from([0xf4, 0x90, 0x80, 0x80]), // above U+10FFFF
  Buffer.from([0x80, 0x80, 0x80]), // lone continuation bytes
];

const WRONG_CONTENT_TYPES = ['text/xml', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'image/png', 'application/octet-stream', 'application/jsonx', 'json', '%%%', 'application/json; charset=utf-16'];

export class CaseBuilder {
  private readonly routes = routeSpecs();
  /** Routes that take a body have the most ways to be wrong: they come up four times as often. */
  private readonly schedule = this.routes.flatMap((r) => Array<RouteSpec>(r.json || r.csv ? 4 : 1).fill(r));

  constructor(
    private readonly ctx: FuzzContext,
    private readonly rng: Rng,
    /** Methods the OpenAPI document lists per path, to pick ones that do not exist. */
    private readonly methodsByPath: Map<string, Set<string>>,
  ) {}

  /** Routes the generator knows; the test checks they are exactly the documented ones. */
  get documented(): string[] {
    return this.routes.map((r) => `${r.method} ${r.path}`);
  }

  private headers(route: RouteSpec, extra: Record<string, string> = {}): Record<string, string> {
    const key = route.auth === 'admin' ? this.ctx.adminKey : this.ctx.tenantKey;
    const headers: Record<string, string> = route.auth === 'none' ? {} : { authorization: `Bearer ${key}` };
    if (route.idempotent && this.rng.chance(0.3)) headers['idempotency-key'] = `fuzz-${this.rng.int(50)}`;
    if (this.rng.chance(0.1)) headers['x-request-id'] = this.rng.pick(['fuzz-1', '<script>', 'a'.repeat(300), '\u00ff\u00fe', 'line\tbreak']);
    return { ...headers, ...extra };
  }

  private url(route: RouteSpec, params = route.params(this.ctx), query?: Query): string {
    const q = query ?? route.query?.valid(this.ctx) ?? {};
    return fillPath(route.path, params) + queryString(q);
  }

  private jsonRequest(route: RouteSpec, body: Buffer | string, extraHeaders: Record<string, string> = {}): HttpRequest {
    return { method: route.method, path: this.url(route), headers: this.headers(route, { 'content-type': 'application/json', ...extraHeaders }), body };
  }

  /** Families that apply to a route, with weights. */
  private families(route: RouteSpec): [string, number][] {
    const list: [string, number][] = [['method', 1], ['raw', 1]];
    if (route.auth !== 'none') list.push(['auth', 2]);
    if (route.path.includes('{')) list.push(['params', 2]);
    if (route.query) list.push(['query', 2]);
    if (route.method !== 'GET') list.push(['content-type', 1], ['body-syntax', 1], ['body-encoding', 1], ['body-size', 1]);
    if (route.json) list.push(['body-field', 6], ['body-shape', 2], ['body-deep', 1], ['absurd', route.path === '/v1/jobs' ? 2 : 0]);
    if (route.csv) list.push(['csv', 12]);
    if (route.idempotent) list.push(['idempotency-header', 1]);
    return list.filter(([, w]) => w > 0);
  }

  build(index: number): FuzzCase {
    const route = this.schedule[index % this.schedule.length];
    const families = this.families(route);
    const total = families.reduce((a, [, w]) => a + w, 0);
    let roll = this.rng.next() * total;
    const family = families.find(([, w]) => (roll -= w) < 0)?.[0] ?? families[0][0];
    const built = this.buildFamily(route, family);
    return { route: `${route.method} ${route.path}`, ...built };
  }

  private buildFamily(route: RouteSpec, family: string): Built {
    const { rng, ctx } = this;
    switch (family) {
      case 'method': {
        const taken = this.methodsByPath.get(route.path) ?? new Set();
        const method = rng.pick(['PUT', 'PATCH', 'DELETE', 'POST', 'GET', 'OPTIONS', 'TRACE'].filter((m) => !taken.has(m) && !(m === 'GET' && taken.has('HEAD'))));
        const suffix = rng.chance(0.3) ? rng.pick(['/extra', '/..', '//', '/%2e%2e']) : '';
        return { family, description: `${method} on ${route.path}${suffix}`, request: { method, path: this.url(route) + suffix, headers: this.headers(route) } };
      }
      case 'auth': {
        const variants: [string, string | undefined][] = [
          ['no authorization', undefined],
          ['empty', ''],
          ['scheme only', 'Bearer'],
          ['basic', `Basic ${Buffer.from('a:b').toString('base64')}`],
          ['unknown key', `Bearer bp_${randomUUID()}`],
          ['revoked key', `Bearer ${ctx.revokedKey}`],
          ['two tokens', `Bearer ${ctx.tenantKey} ${ctx.tenantKey}`],
          ['8 KB token', `Bearer ${'k'.repeat(8000)}`],
          ['latin-1 bytes', `Bearer \u00ff\u00fe${ctx.tenantKey}`],
          ['key in upper case', `Bearer ${ctx.tenantKey.toUpperCase()}`],
          route.auth === 'admin' ? ['tenant key on an admin route', `Bearer ${ctx.tenantKey}`] : ['admin key on a tenant route', `Bearer ${ctx.adminKey}`],
        ];
        const [what, value] = rng.pick(variants);
        const headers = this.headers(route);
        if (value === undefined) delete headers.authorization;
        else headers.authorization = value;
        const body = route.json ? serialize(route.json.template(ctx, rng)) : undefined;
        if (body) headers['content-type'] = 'application/json';
        return { family, description: `auth: ${what}`, request: { method: route.method, path: this.url(route), headers, body } };
      }
      case 'params': {
        const params = route.params(ctx);
        const name = rng.pick(Object.keys(params));
        const value = rng.chance(0.2) ? randomUUID() : rng.pick(INVALID_PARAMS);
        const body = route.json ? serialize(route.json.template(ctx, rng)) : undefined;
        const headers = this.headers(route, body ? { 'content-type': 'application/json' } : {});
        return { family, description: `param ${name}=${value.slice(0, 40)}`, request: { method: route.method, path: this.url(route, { ...params, [name]: value }), headers, body } };
      }
      case 'query': {
        const q = rng.pick(route.query!.invalid(ctx));
        const isCsv = route.csv;
        const body = isCsv ? 'a,b,c,d,species\n1,2,3,4,x\n5,6,7,8,y\n' : undefined;
        return {
          family,
          description: `query ${JSON.stringify(q).slice(0, 80)}`,
          request: { method: route.method, path: fillPath(route.path, route.params(ctx)) + queryString(q), headers: this.headers(route, isCsv ? { 'content-type': 'text/csv' } : {}), body },
        };
      }
      case 'content-type': {
        const valid = route.json ? serialize(route.json.template(ctx, rng)) : '{}';
        const variant = rng.int(4);
        if (variant === 0) {
          const type = rng.pick(WRONG_CONTENT_TYPES);
          return { family, description: `content-type ${type}`, request: { method: route.method, path: this.url(route), headers: this.headers(route, { 'content-type': type }), body: route.csv && type.startsWith('text/') ? '<a/>' : valid } };
        }
        if (variant === 1) {
          return { family, description: 'body without content-type', request: { method: route.method, path: this.url(route), headers: this.headers(route, { 'content-length': String(Buffer.byteLength(valid)) }), body: valid } };
        }
        // A route without a body takes an empty one whatever its Content-Type says (clients that always send JSON).
        if (variant === 2 && route.json) {
          return { family, description: 'empty JSON body', request: { method: route.method, path: this.url(route), headers: this.headers(route, { 'content-type': 'application/json', 'content-length': '0' }), body: '' } };
        }
        if (!route.json) {
          return { family, description: 'JSON in UTF-16', request: { method: route.method, path: this.url(route), headers: this.headers(route, { 'content-type': 'application/json' }), body: Buffer.from(valid, 'utf16le') } };
        }
        return { family, description: 'JSON sent as text/plain to a JSON route', request: { method: route.method, path: this.url(route), headers: this.headers(route, { 'content-type': route.csv ? 'application/json' : 'text/plain' }), body: route.csv ? 'a,b,species\n1,2,x\n' : valid } };
      }
      case 'body-syntax': {
        const valid = route.json ? serialize(route.json.template(ctx, rng)) : '{"a":1}';
        const broken = rng.pick([
          valid.slice(0, Math.max(1, rng.int(valid.length - 1))),
          `${valid},`,
          `${valid}garbage`,
          valid.replace(/"/g, "'"),
          valid.replace(/:/, '::'),
          `{"a":NaN}`,
          `{"a":Infinity}`,
          `[1,2,]`,
          `{"a":1,}`,
          `// comment\n${valid}`,
          `{"__proto__":{"x":1}}`,
          `{"constructor":{"prototype":{"x":1}}}`,
          `{"a":"\\x41"}`,
          `{"a":"\\u12"}`,
          '\u0000',
          'undefined',
          `{"a":01}`,
          `{"a":.5}`,
          `{"a":+1}`,
          `{"a":"tab\there"}`,
        ]);
        return { family, description: `syntax: ${broken.slice(0, 60)}`, request: this.jsonRequest(route, broken) };
      }
      case 'body-encoding': {
        const bad = rng.pick(BAD_UTF8);
        const field = route.path === '/v1/jobs' ? 'model' : 'name';
        const valid = route.json ? (route.json.template(ctx, rng) as Record<string, Value>) : { name: 'x' };
        const text = serialize({ ...valid, [field]: 'PLACEHOLDER' });
        const [before, after] = text.split('PLACEHOLDER');
        const variant = rng.int(3);
        if (variant === 0) {
          const body = Buffer.concat([Buffer.from(before), Buffer.from('ok'), bad, Buffer.from(after)]);
          return { family, description: `invalid UTF-8 ${bad.toString('hex')} in a JSON string`, request: this.jsonRequest(route, body) };
        }
        if (variant === 1) {
          const body = Buffer.concat([bad, Buffer.from(serialize(valid))]);
          return { family, description: `invalid UTF-8 ${bad.toString('hex')} before the JSON`, request: this.jsonRequest(route, body) };
        }
        const escape = rng.pick(['\\u0000', '\\ud800', '\\udc00x', 'a\\u0000b', '\\ud83d']);
        if (!route.json) return { family, description: `escape ${escape} in an ignored body`, request: this.jsonRequest(route, Buffer.concat([Buffer.from('{"a":"'), bad, Buffer.from('"}')])) };
        const target = route.path === '/v1/jobs' ? '"model":{"layers":[],"loss":"PLACEHOLDER"}' : null;
        const body = target ? text.replace('"model":"PLACEHOLDER"', target).replace('PLACEHOLDER', escape) : `${before}${escape}${after}`;
        return { family, description: `JSON escape ${escape} where a name belongs`, request: this.jsonRequest(route, body) };
      }
      case 'body-size': {
        const limit = ctx.limits.bodyBytes;
        const variant = rng.int(3);
        if (variant === 0) {
          const body = Buffer.alloc(limit + 1 + rng.int(1024), 0x20);
          body.write('{"name":"', 0);
          return { family, description: `body of ${body.length} bytes, over the limit`, request: this.jsonRequest(route, body) };
        }
        if (variant === 1 && route.csv) {
          const body = Buffer.from('a,b,species\n' + '1,2,x\n'.repeat(Math.ceil(limit / 6) + 10));
          return { family, description: `CSV of ${body.length} bytes, over the limit`, request: { method: route.method, path: this.url(route), headers: this.headers(route, { 'content-type': 'text/csv' }), body } };
        }
        const declared = limit * (2 + rng.int(100));
        const head = `${route.method} ${this.url(route)} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${route.auth === 'admin' ? ctx.adminKey : ctx.tenantKey}\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\nConnection: close\r\n\r\n{"a":`;
        return { family, description: `declares ${declared} bytes, over the limit`, raw: Buffer.from(head) };
      }
      case 'body-field': {
        const { template, rules } = route.json!;
        let body = template(ctx, rng);
        const applicable = rules(ctx);
        const count = 1 + rng.int(rng.chance(0.7) ? 1 : 3);
        const described: string[] = [];
        for (let i = 0; i < count; i++) {
          const rule = rng.pick(applicable);
          const value = rng.pick(rule.invalid);
          body = setAt(body, rule.path, value);
          described.push(`${rule.path.join('.')}=${serialize(value)?.slice(0, 40)}`);
        }
        return { family, description: described.join(', '), request: this.jsonRequest(route, serialize(body)) };
      }
      case 'body-shape': {
        const { template, required } = route.json!;
        const body = template(ctx, rng);
        const variant = rng.int(3);
        if (variant === 0) {
          // {} is a valid body where every field is optional (PATCH /v1/tenants/{id}/rate-limits and /quotas).
          const value = rng.pick([null, [], 'text', 42, true, [body], { body }, ...(required.length > 0 ? [{}] : [])]);
          return { family, description: `top-level ${serialize(value).slice(0, 40)}`, request: this.jsonRequest(route, serialize(value)) };
        }
        // A route whose fields are all optional (PATCH /v1/tenants/{id}/rate-limits) has none to leave out.
        if (variant === 1 && required.length > 0) {
          const path = rng.pick(required);
          return { family, description: `missing ${path.join('.')}`, request: this.jsonRequest(route, serialize(deleteAt(body, path))) };
        }
        const objects = objectPaths(body).filter((p) => !(route.path.endsWith('/predict') && p.length > 1));
        const path = rng.pick(objects);
        const key = rng.pick(['extra', 'admin', 'tenantId', 'id', 'epochs ', 'Layers', 'isAdmin', 'status']);
        return { family, description: `unknown key ${key} at ${path.join('.') || 'top'}`, request: this.jsonRequest(route, serialize(setAt(body, [...path, key], rng.pick([1, 'x', true, {}])))) };
      }
      case 'body-deep': {
        if (rng.chance(0.25)) {
          // Wide rather than deep: more empty arrays/objects than any request needs, within the byte limit.
          const count = Math.floor((ctx.limits.bodyBytes - 64) / 3);
          const body = `{"${rng.pick(['inputs', 'rows', 'layers'])}":[${rng.chance(0.5) ? '{},'.repeat(count) : '[],'.repeat(count)}{}]}`;
          return { family, description: `${count} empty containers`, request: this.jsonRequest(route, body) };
        }
        const depth = rng.pick([8, 30, 60, 65, 1000, 10_000, 100_000, 500_000]);
        const nested = rng.chance(0.5) ? deepArray(depth) : deepObject(depth);
        const template = route.json!.template(ctx, rng) as Record<string, Value>;
        const field = rng.pick(Object.keys(template));
        const text = rng.chance(0.3) ? nested : serialize({ ...template, [field]: 'PLACEHOLDER' }).replace('"PLACEHOLDER"', nested);
        return { family, description: `nesting ${depth} deep in ${field}`, request: this.jsonRequest(route, text) };
      }
      case 'absurd': {
        const model = rng.pick(absurdSpecs);
        const body = { ...jobBody(ctx), model };
        return { family, description: `${model.layers.length} layers up to ${model.layers[0].units} units`, request: this.jsonRequest(route, serialize(body)) };
      }
      case 'idempotency-header': {
        const key = rng.pick(['', ' ', 'x'.repeat(256), 'has space', 'tab\tkey', '\u00e9t\u00e9', 'ok\u00ff']);
        const body = route.csv ? 'a,b,species\n1,2,x\n' : serialize(route.json!.template(ctx, rng));
        const headers = this.headers(route, { 'content-type': route.csv ? 'text/csv' : 'application/json', 'idempotency-key': key });
        return { family, description: `Idempotency-Key ${JSON.stringify(key.slice(0, 20))}`, request: { method: route.method, path: this.url(route), headers, body } };
      }
      case 'csv':
        return this.csvCase(route);
      case 'raw':
        return this.rawCase(route);
      default:
        throw new Error(`unknown family ${family}`);
    }
  }

  private csvCase(route: RouteSpec): Built {
    const { rng, ctx } = this;
    const header = 'a,b,c,d,species';
    const good = Array.from({ length: 10 }, (_, i) => `${i},${i / 2},${3 - i},${i % 4},${['x', 'y', 'z'][i % 3]}`);
    const withRow = (at: number, line: string) => [header, ...good.slice(0, at), line, ...good.slice(at)].join('\n') + '\n';
    const at = rng.int(good.length);
    const cases: [string, () => Buffer | string][] = [
      ['ragged short row', () => withRow(at, '1,2,3,x')],
      ['ragged long row', () => withRow(at, '1,2,3,4,x,9')],
      ['non-numeric cell', () => withRow(at, `1,${rng.pick(['oops', 'Infinity', '-inf', '1e39', '-3.5e38', '0x', '1..2', '--1', '"1,5"', '∞', '١٢'])},3,4,x`)],
      ['NUL in a class label', () => withRow(at, '1,2,3,4,a\u0000b')],
      ['__proto__ class label', () => withRow(at, '1,2,3,4,__proto__')],
      ['NUL in a column name', () => [header.replace('b', 'b\u0000'), ...good].join('\n')],
      ['duplicate column', () => [header.replace('b', 'a'), ...good].join('\n')],
      ['empty column name', () => [header.replace('b', ''), ...good].join('\n')],
      ['long column name', () => [header.replace('b', 'b'.repeat(201)), ...good].join('\n')],
      ['__proto__ column', () => [header.replace('b', '__proto__'), ...good].join('\n')],
      ['empty body', () => ''],
      ['only newlines', () => '\n\r\n\n'],
      ['only a BOM', () => '\ufeff'],
      ['BOM and header only', () => `\ufeff${header}\n`],
      ['BOM and a ragged row', () => `\ufeff${withRow(at, '1,2')}`],
      ['two BOMs and a bad cell', () => `\ufeff\ufeff${withRow(at, '1,2,zz,4,x')}`],
      ['UTF-16LE with BOM', () => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from([header, ...good].join('\n'), 'utf16le')])],
      ['header only', () => `${header}\n`],
      ['unclosed quote', () => withRow(at, '1,"2,3,4,x')],
      ['text after a closing quote', () => withRow(at, '1,"2"x,3,4,x')],
      ['quoted newline making a row ragged', () => withRow(at, '1,"2\n3",4,x')],
      ['CR line endings and a bad cell', () => withRow(at, '1,2,bad,4,x').replace(/\n/g, '\r')],
      ['invalid UTF-8 in a label', () => Buffer.concat([Buffer.from(`${header}\n1,2,3,4,`), rng.pick(BAD_UTF8), Buffer.from('\n5,6,7,8,y\n')])],
      ['invalid UTF-8 in the header', () => Buffer.concat([Buffer.from('a,'), rng.pick(BAD_UTF8), Buffer.from(',c,d,species\n1,2,3,4,x\n')])],
      ['millions of columns in the header', () => Buffer.alloc(Math.min(ctx.limits.bodyBytes - 16, 4_000_000), 'a,')],
      ['millions of columns in a data row', () => `${header}\n1,2,3,4,x\n${'1,'.repeat(Math.min(ctx.limits.bodyBytes / 2 - 64, 1_900_000))}x\n`],
      ['columns over DATASET_MAX_COLUMNS', () => `${Array.from({ length: ctx.limits.maxColumns + 1 }, (_, i) => `c${i}`).join(',')}\n`],
      ['rows over DATASET_MAX_ROWS', () => `${header}\n${'1,2,3,4,x\n'.repeat(ctx.limits.maxRows + 1)}`],
      ['cells over DATASET_MAX_CELLS', () => {
        const width = Math.min(ctx.limits.maxColumns, 500);
        const rows = Math.ceil(ctx.limits.maxCells / width) + 1;
        const line = `${'1,'.repeat(width - 1)}1\n`;
        return `${Array.from({ length: width }, (_, i) => `c${i}`).join(',')}\n${line.repeat(rows)}`;
      }],
      ['more than 4096 classes', () => `${header}\n${Array.from({ length: 4097 }, (_, i) => `1,2,3,4,class${i}`).join('\n')}\n`],
      ['numeric target spread over two columns with labels', () => withRow(at, '1,2,3,4,x')],
    ];
    const [what, make] = rng.pick(cases);
    let query: Query = route.query!.valid(ctx);
    if (what.startsWith('numeric target spread')) query = { name: 'fuzz', target: 'd,species' };
    if (what.includes('DATASET_MAX_COLUMNS') || what.startsWith('cells over')) query = { name: 'fuzz', target: 'c0' };
    const type = rng.pick(['text/csv', 'text/csv; charset=utf-8', 'text/plain']);
    return {
      family: 'csv',
      description: what,
      request: { method: route.method, path: fillPath(route.path, {}) + queryString(query), headers: this.headers(route, { 'content-type': type }), body: make() },
    };
  }

  private rawCase(route: RouteSpec): Built {
    const { rng, ctx } = this;
    const path = this.url(route);
    const auth = route.auth === 'none' ? '' : `Authorization: Bearer ${route.auth === 'admin' ? ctx.adminKey : ctx.tenantKey}\r\n`;
    const variants: [string, () => Buffer][] = [
      ['garbage request line', () => Buffer.from('HELLO THERE\r\n\r\n')],
      ['lower-case method', () => Buffer.from(`${route.method.toLowerCase()} ${path} HTTP/1.1\r\nHost: x\r\n\r\n`)],
      ['HTTP/9.9', () => Buffer.from(`${route.method} ${path} HTTP/9.9\r\nHost: x\r\n\r\n`)],
      ['header overflow', () => Buffer.from(`${route.method} ${path} HTTP/1.1\r\nHost: x\r\n${auth}X-Big: ${'b'.repeat(20_000)}\r\n\r\n`)],
      ['invalid header name', () => Buffer.from(`${route.method} ${path} HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n`)],
      ['NUL in a header value', () => Buffer.from(`${route.method} ${path} HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n`, 'latin1')],
      ['invalid bytes in the path', () => Buffer.concat([Buffer.from(`${route.method} ${path}`), Buffer.from([0xff, 0xfe]), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')])],
      ['Content-Length not a number', () => Buffer.from(`POST ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: abc\r\n\r\n{}`)],
      ['two different Content-Lengths', () => Buffer.from(`POST ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\n{}`)],
      ['Content-Length with Transfer-Encoding', () => Buffer.from(`POST ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`)],
      ['broken chunk size', () => Buffer.from(`POST ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`)],
      ['chunked body over the limit', () => {
        const chunk = `${(64 * 1024).toString(16)}\r\n${' '.repeat(64 * 1024)}\r\n`;
        const count = Math.ceil(ctx.limits.bodyBytes / (64 * 1024)) + 2;
        return Buffer.from(`POST ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunk.repeat(count)}0\r\n\r\n`);
      }],
      ['Content-Length shorter than the body', () => Buffer.from(`POST ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{"name":"x"}`)],
      ['invalid UTF-8 in the Authorization header', () => Buffer.concat([Buffer.from(`${route.method} ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer `), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('\r\nConnection: close\r\n\r\n')])],
      ['HTTP/1.1 without Host', () => Buffer.from(`${route.method} ${path} HTTP/1.1\r\n${auth}Connection: close\r\n\r\n`)],
      ['absolute-form URL to another host', () => Buffer.from(`${route.method} http://evil.example${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)],
    ];
    const [what, make] = rng.pick(variants);
    // A few variants are only wrong for what they carry; on a route that needs no key they could be fine.
    const needsBrokenRoute = ['invalid UTF-8 in the Authorization header', 'absolute-form URL to another host', 'Content-Length shorter than the body'];
    if (needsBrokenRoute.includes(what) && (route.auth === 'none' || route.method === 'GET' || route.method === 'DELETE')) {
      return { family: 'raw', description: 'garbage request line', raw: Buffer.from('HELLO THERE\r\n\r\n') };
    }
    return { family: 'raw', description: what, raw: make() };
  }
}
