/** Where a command writes: results on stdout (for pipes), progress and messages on stderr. */
export interface Output {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream;
}
