// Regression metrics per target column, with scikit-learn's definitions (mean_absolute_error, root_mean_squared_error,
// r2_score), except that R² is null rather than a convention when the actual values are all equal.
import type { EvaluatedRows, RegressionEvaluation } from '../contracts/evaluation.js';

type Values = Float32Array | Float64Array;

/**
 * Judges a regression model. `predictions` and `targets` are row-major, rows x names.length, already in the targets'
 * own units (de-standardised). Sums run in float64 whatever the input type. Throws a RangeError on mismatched sizes,
 * no rows, a value that is not finite, or figures too large for a float64.
 */
export function evaluateRegression(
  predictions: Values,
  targets: Values,
  names: readonly string[],
  on: EvaluatedRows,
): RegressionEvaluation {
  const t = names.length;
  if (t === 0) throw new RangeError('names: expected at least one target');
  if (targets.length === 0 || targets.length % t !== 0 || predictions.length !== targets.length) {
    throw new RangeError(
      `expected predictions and targets of rows x ${t} values, at least one row; got ${predictions.length} and ${targets.length}`,
    );
  }
  requireFinite(predictions, 'predictions');
  requireFinite(targets, 'targets');
  const rows = targets.length / t;

  return {
    kind: 'regression',
    rows,
    on,
    targets: names.map((name, j) => {
      let sum = 0;
      let min = Infinity;
      let max = -Infinity;
      for (let r = 0; r < rows; r++) {
        const y = targets[r * t + j];
        sum += y;
        min = Math.min(min, y);
        max = Math.max(max, y);
      }
      // Equal values are their own mean; sum / rows may miss it by an ulp (3 x 0.1 / 3), which would make SS_tot a
      // tiny positive number and R² a huge negative one instead of undefined.
      const constant = min === max;
      const mean = constant ? min : sum / rows;
      // A second pass over deviations from the mean: the one-pass sum(y²) - n mean² cancels catastrophically when
      // the values sit far from zero.
      let absoluteErrors = 0;
      let squaredErrors = 0;
      let squaredDeviations = 0;
      for (let r = 0; r < rows; r++) {
        const y = targets[r * t + j];
        const error = y - predictions[r * t + j];
        absoluteErrors += Math.abs(error);
        squaredErrors += error * error;
        squaredDeviations += (y - mean) * (y - mean);
      }
      const figures = {
        name,
        mae: absoluteErrors / rows,
        rmse: Math.sqrt(squaredErrors / rows),
        r2: constant || squaredDeviations === 0 ? null : 1 - squaredErrors / squaredDeviations,
        mean,
      };
      if (![figures.mae, figures.rmse, figures.r2 ?? 0].every(Number.isFinite)) {
        throw new RangeError(`${name}: errors too large to evaluate (a squared error overflows a float64)`);
      }
      return figures;
    }),
  };
}

function requireFinite(values: Values, field: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new RangeError(`${field}[${i}]: expected a finite number, got ${values[i]}`);
  }
}
