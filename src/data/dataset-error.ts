/** Bad dataset content; carries the row (1-based data row) and column it was found in. */
export class DatasetError extends Error {
  override name = 'DatasetError';
  constructor(
    message: string,
    readonly details: { field: string; row?: number; column?: string },
  ) {
    super(message);
  }
}
