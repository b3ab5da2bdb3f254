/**
 * Bad dataset content; carries the row (1-based data row) and column it was found in, or for sequence datasets the
 * sequence (0-based index, and its id in the CSV form).
 */
export class DatasetError extends Error {
  override name = 'DatasetError';
  constructor(
    message: string,
    readonly details: { field: string; row?: number; column?: string; limit?: number; sequence?: number; sequenceId?: string },
  ) {
    super(message);
  }
}

/** The dataset is larger than a configured limit (rows, columns or cells); raised as soon as the limit is crossed. */
export class DatasetTooLargeError extends DatasetError {
  override name = 'DatasetTooLargeError';
}

/** At most `max` names, then "and N more": messages stay short whatever the dataset's width. */
export function listNames(names: readonly string[], max = 10): string {
  const shown = names.slice(0, max).map((n) => (n.length > 40 ? `${n.slice(0, 40)}…` : n));
  return names.length > max ? `${shown.join(', ')} and ${names.length - max} more` : shown.join(', ');
}
