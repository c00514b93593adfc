import { isUtf8 } from 'node:buffer';
import { createTwoFilesPatch } from 'diff';

const SNIFF_BYTES = 8000;
/** Beyond this, a text diff costs more than it tells; the listing still shows the change. */
export const MAX_DIFF_BYTES = 2 * 1024 * 1024;

/** Binary if it has a NUL byte near the start (as git decides) or is not UTF-8. */
export function isBinary(data: Buffer): boolean {
  return data.subarray(0, SNIFF_BYTES).includes(0) || !isUtf8(data);
}

/** A unified diff of two versions of a file, `a/` and `b/` prefixed like git's; null when binary. */
export function unifiedDiff(
  oldPath: string | null,
  newPath: string | null,
  before: Buffer,
  after: Buffer,
): string | null {
  if (isBinary(before) || isBinary(after)) return null;
  if (before.length > MAX_DIFF_BYTES || after.length > MAX_DIFF_BYTES) {
    return `(not diffed: larger than ${MAX_DIFF_BYTES} bytes)\n`;
  }
  return createTwoFilesPatch(
    oldPath === null ? '/dev/null' : `a/${oldPath}`,
    newPath === null ? '/dev/null' : `b/${newPath}`,
    before.toString('utf8'),
    after.toString('utf8'),
    undefined,
    undefined,
    { context: 3 },
  );
}
