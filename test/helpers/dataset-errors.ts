// The DatasetError a call throws (or a promise rejects with), for tests that look at its message and details.
import { expect } from 'vitest';
import { DatasetError } from '../../src/data/dataset-error.js';

export function fail(fn: () => unknown): DatasetError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DatasetError);
    return err as DatasetError;
  }
  throw new Error('expected a DatasetError');
}

export async function rejection(promise: Promise<unknown>): Promise<DatasetError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(DatasetError);
  return err as DatasetError;
}
