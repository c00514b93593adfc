/** A refused file operation, with the errno a file system would give and the HTTP status. */
export class ShadowError extends Error {
  override name = 'ShadowError';
  constructor(
    readonly status: number,
    readonly code: 'ENOENT' | 'EISDIR' | 'ENOTDIR' | 'ENOTEMPTY' | 'EEXIST' | 'EINVAL',
    message: string,
  ) {
    super(message);
  }
}
