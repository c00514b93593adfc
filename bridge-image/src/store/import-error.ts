/** An export that cannot be imported: the message names the line and what is wrong with it. */
export class ImportError extends Error {
  override name = 'ImportError';
  constructor(
    message: string,
    /** The line at fault, when one is. */
    readonly line?: number,
  ) {
    super(message);
  }
}
