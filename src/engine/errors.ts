/**
 * Typed engine errors. Every message names the offending field and what was expected, so the service can
 * hand it to a user unchanged.
 */
export class EngineError extends Error {
  readonly code: string;
  readonly field: string;
  readonly expected: string;

  constructor(code: string, field: string, expected: string, message?: string) {
    super(message ?? `${field}: expected ${expected}`);
    this.name = 'EngineError';
    this.code = code;
    this.field = field;
    this.expected = expected;
  }
}

/** Raised when the loss stops being finite: training cannot continue and retrying unchanged will not help. */
export class DivergenceError extends EngineError {
  readonly epoch: number;
  readonly lastFiniteLoss: number | null;
  readonly suggestedLearningRate: number;

  constructor(epoch: number, lastFiniteLoss: number | null, learningRate: number) {
    const suggested = learningRate / 10;
    const last = lastFiniteLoss === null ? 'none (diverged in the first epoch)' : String(lastFiniteLoss);
    super(
      'ERR_TRAINING_DIVERGED',
      'training.optimizer.learningRate',
      `a smaller value, e.g. ${suggested}`,
      `training diverged at epoch ${epoch}: the loss became NaN or infinite (last finite loss: ${last}); ` +
        `try a lower learning rate such as ${suggested}`,
    );
    this.name = 'DivergenceError';
    this.epoch = epoch;
    this.lastFiniteLoss = lastFiniteLoss;
    this.suggestedLearningRate = suggested;
  }
}

export function invalid(field: string, expected: string, got?: unknown): EngineError {
  const suffix = got === undefined ? '' : `, got ${formatValue(got)}`;
  return new EngineError('ERR_INVALID_ARGUMENT', field, expected, `${field}: expected ${expected}${suffix}`);
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}
