import { describe, expect, it } from 'vitest';
import { createNetwork, deserializeModel, EngineError, DivergenceError, serializeModel, Trainer, type ModelSpec, type TrainingOptions } from '../../src/engine/index.js';

const spec: ModelSpec = {
  inputSize: 2,
  layers: [
    { type: 'dense', units: 3, activation: 'relu' },
    { type: 'dense', units: 2, activation: 'softmax' },
  ],
  loss: 'categoricalCrossEntropy',
};
const data = { inputs: Float32Array.of(0, 1, 1, 0, 1, 1, 0, 0), targets: Float32Array.of(1, 0, 0, 1, 1, 0, 0, 1), rows: 4 };
const options: TrainingOptions = { optimizer: { type: 'sgd', learningRate: 0.1 }, epochs: 2, batchSize: 2 };

function engineError(run: () => unknown): EngineError {
  try {
    run();
  } catch (error) {
    if (error instanceof EngineError) return error;
    throw error;
  }
  throw new Error('expected an EngineError');
}

function withLayer(i: number, patch: object): ModelSpec {
  return { ...spec, layers: spec.layers.map((l, j) => (j === i ? { ...l, ...patch } : l)) } as ModelSpec;
}

describe('bad input gives a typed error naming the field and the expectation', () => {
  const specCases: [string, ModelSpec, string, RegExp][] = [
    ['unknown activation', withLayer(0, { activation: 'swish' }), 'layers[0].activation', /one of linear, sigmoid/],
    ['unknown loss', { ...spec, loss: 'hinge' } as unknown as ModelSpec, 'loss', /one of meanSquaredError/],
    ['zero units', withLayer(0, { units: 0 }), 'layers[0].units', /integer between 1/],
    ['negative units', withLayer(0, { units: -4 }), 'layers[0].units', /integer between 1/],
    ['fractional units', withLayer(0, { units: 2.5 }), 'layers[0].units', /integer/],
    ['crossentropy on a non-softmax output', withLayer(1, { activation: 'sigmoid' }), 'layers[1].activation', /"softmax" because loss is categoricalCrossEntropy/],
    ['binary crossentropy on a non-sigmoid output', { ...withLayer(1, { activation: 'linear' }), loss: 'binaryCrossEntropy' }, 'layers[1].activation', /"sigmoid"/],
    ['unknown layer type', withLayer(0, { type: 'conv' }), 'layers[0].type', /"dense"/],
    ['no layers', { ...spec, layers: [] }, 'layers', /non-empty/],
    ['zero inputs', { ...spec, inputSize: 0 }, 'inputSize', /integer between 1/],
  ];
  it.each(specCases)('%s', (_name, badSpec, field, expected) => {
    const error = engineError(() => createNetwork(badSpec));
    expect(error.field).toBe(field);
    expect(error.message).toMatch(expected);
    expect(error.message).toContain(field);
  });

  const recurrent = (layers: unknown[], extra: object = { sequenceLength: 4 }) =>
    ({ inputSize: 2, ...extra, layers, loss: 'meanSquaredError' }) as ModelSpec;
  const head = { type: 'dense', units: 1, activation: 'linear' };
  const recurrentCases: [string, ModelSpec, string, RegExp][] = [
    ['a recurrent layer after a dense one', recurrent([{ type: 'dense', units: 3, activation: 'tanh' }, { type: 'rnn', units: 3 }, head]), 'layers[1].type', /recurrent layers \(rnn, lstm, gru\) come before every dense layer/],
    ['a recurrent output layer', recurrent([{ type: 'lstm', units: 1 }]), 'layers[0].type', /"dense": a network ends in a dense output layer/],
    ['stacked recurrent layers without returnSequences', recurrent([{ type: 'rnn', units: 3 }, { type: 'lstm', units: 3 }, head]), 'layers[0].returnSequences', /true: layers\[1\] is a recurrent layer/],
    ['recurrent layers without sequenceLength', recurrent([{ type: 'rnn', units: 3 }, head], {}), 'sequenceLength', /required with recurrent layers/],
    ['sequenceLength on a dense-only model', recurrent([head]), 'sequenceLength', /only models with recurrent layers/],
    ['a fractional sequenceLength', recurrent([{ type: 'rnn', units: 3 }, head], { sequenceLength: 2.5 }), 'sequenceLength', /an integer between 1/],
    ['softmax in a recurrent layer', recurrent([{ type: 'rnn', units: 3, activation: 'softmax' }, head]), 'layers[0].activation', /elementwise/],
    ['an unknown recurrent activation', recurrent([{ type: 'lstm', units: 3, activation: 'gelu' }, head]), 'layers[0].activation', /one of linear, sigmoid/],
    ['zero recurrent units', recurrent([{ type: 'lstm', units: 0 }, head]), 'layers[0].units', /integer between 1/],
  ];
  it.each(recurrentCases)('%s', (_name, badSpec, field, expected) => {
    const error = engineError(() => createNetwork(badSpec));
    expect(error.field).toBe(field);
    expect(error.message).toMatch(expected);
  });

  const net = () => createNetwork(spec, 1);
  const trainCases: [string, () => unknown, string, RegExp][] = [
    ['mismatched input width', () => new Trainer(net(), { ...data, inputs: new Float32Array(12) }, options), 'inputSize', /3 \(the width of each input row\)/],
    ['output width that does not match the targets', () => new Trainer(net(), { ...data, targets: new Float32Array(12) }, options), 'layers[1].units', /3 \(the width of each target row\)/],
    ['NaN in inputs', () => new Trainer(net(), { ...data, inputs: Float32Array.of(0, 1, NaN, 0, 1, 1, 0, 0) }, options), 'inputs[1][0]', /finite number/],
    ['Infinity in targets', () => new Trainer(net(), { ...data, targets: Float32Array.of(1, 0, 0, Infinity, 1, 0, 0, 1) }, options), 'targets[1][1]', /finite number/],
    ['batchSize < 1', () => new Trainer(net(), data, { ...options, batchSize: 0 }), 'batchSize', /integer >= 1/],
    ['epochs < 1', () => new Trainer(net(), data, { ...options, epochs: 0 }), 'epochs', /integer between 1/],
    ['negative learning rate', () => new Trainer(net(), data, { ...options, optimizer: { type: 'sgd', learningRate: -1 } }), 'optimizer.learningRate', /> 0/],
    ['unknown optimizer', () => new Trainer(net(), data, { ...options, optimizer: { type: 'rmsprop', learningRate: 1 } as never }), 'optimizer.type', /one of sgd, adam/],
    ['validationSplit of 1', () => new Trainer(net(), data, { ...options, validationSplit: 1 }), 'validationSplit', /\[0, 1\)/],
    ['validationSplit leaving no validation rows', () => new Trainer(net(), data, { ...options, validationSplit: 0.1 }), 'validationSplit', /at least one row/],
    ['predict with the wrong width', () => net().predict(new Float32Array(3), 1), 'inputs', /1 rows of 2 values/],
    ['corrupt weights', () => deserializeModel({ format: 'backprop-engine/model@1', dtype: 'float32', spec, weights: [{ kernel: 'AAAA', bias: 'AAAA' }, { kernel: 'AAAA', bias: 'AAAA' }] }), 'model.weights[0].kernel', /6 float32 values/],
  ];
  const rnn = (returnSequences: boolean) =>
    createNetwork(recurrent([{ type: 'rnn', units: 3, returnSequences }, head]), 1);
  const sequences = { inputs: new Float32Array(4 * 8), targets: new Float32Array(4), rows: 4 };
  trainCases.push(
    ['input rows that do not hold sequenceLength x inputSize values', () => new Trainer(rnn(false), { ...sequences, inputs: new Float32Array(4 * 12) }, options), 'inputSize', /3 \(each input row holds 12 values = sequenceLength 4 x inputSize\)/],
    ['sequence-to-sequence targets without one output per step', () => new Trainer(rnn(true), sequences, options), 'layers[1].units', /0.25 \(each target row holds 1 values = sequenceLength 4 x units, one output per step\)/],
    ['bpttSteps < 1', () => new Trainer(rnn(false), sequences, { ...options, bpttSteps: 0 }), 'bpttSteps', /integer >= 1/],
    ['recurrent weights without recurrentKernel', () => deserializeModel({ ...serializeModel(rnn(false)), weights: [{ kernel: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', bias: 'AAAAAAAAAAAAAAAA' }, { kernel: 'AAAAAAAAAAAAAAAA', bias: 'AAAAAA==' }] }), 'model.weights[0].recurrentKernel', /base64 text/],
  );
  it.each(trainCases)('%s', (_name, run, field, expected) => {
    const error = engineError(run);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(expected);
  });

  it('a loss that turns infinite stops training with a divergence error naming epoch, last loss and a lower rate', () => {
    const regression = createNetwork({ inputSize: 1, layers: [{ type: 'dense', units: 1, activation: 'linear' }], loss: 'meanSquaredError' }, 1);
    const inputs = Float32Array.of(1, 2, 3, 4);
    const trainer = new Trainer(regression, { inputs, targets: Float32Array.of(2, 4, 6, 8), rows: 4 }, {
      optimizer: { type: 'sgd', learningRate: 50 },
      epochs: 500,
      batchSize: 4,
    });
    let caught: unknown;
    try {
      trainer.fit();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DivergenceError);
    const error = caught as DivergenceError;
    expect(error.epoch).toBeGreaterThan(1);
    expect(Number.isFinite(error.lastFiniteLoss)).toBe(true);
    expect(error.suggestedLearningRate).toBe(5);
    expect(error.message).toMatch(new RegExp(`epoch ${error.epoch}.*last finite loss: .*lower learning rate such as 5`));
    // The diverged batch never reached the weights.
    for (const p of regression.parameters()) for (const v of p) expect(Number.isFinite(v)).toBe(true);
  });
});
