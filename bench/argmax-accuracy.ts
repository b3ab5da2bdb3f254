/** Fraction of rows whose largest output is at the position of the one-hot target's 1. */
export function argmaxAccuracy(outputs: ArrayLike<number>, targets: ArrayLike<number>, rows: number, classes: number): number {
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * classes;
    let best = 0;
    for (let j = 1; j < classes; j++) if (outputs[o + j] > outputs[o + best]) best = j;
    if (targets[o + best] === 1) correct++;
  }
  return correct / rows;
}
