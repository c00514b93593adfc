import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';

/** As the bridge sniffs: a NUL byte near the start, or bytes that are not UTF-8. */
const SNIFF_BYTES = 8000;

/** The SHA-256 the bridge uses for blobs and for `ifMatch`. */
export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Whether the bridge would treat this content as binary (and not diff it as text). */
export function isBinary(data: Buffer): boolean {
  return data.subarray(0, SNIFF_BYTES).includes(0) || !isUtf8(data);
}

/**
 * Whether a byte range of a file is binary. The range may cut a multi-byte character at either
 * end, which alone does not make the content binary, so up to 3 bytes are forgiven at each edge.
 */
export function isBinaryRange(part: Buffer): boolean {
  if (part.includes(0)) return true;
  let start = 0;
  while (start < 3 && start < part.length && (part[start]! & 0xc0) === 0x80) start++;
  for (let cut = 0; cut <= 3 && cut <= part.length - start; cut++) {
    if (isUtf8(part.subarray(start, part.length - cut))) return false;
  }
  return true;
}

/** A text split into lines, each without its "\n"; `terminated` says whether the last one had one. */
export function splitLines(text: string): { lines: string[]; terminated: boolean } {
  if (text === '') return { lines: [], terminated: false };
  const lines = text.split('\n');
  const terminated = text.endsWith('\n');
  if (terminated) lines.pop();
  return { lines, terminated };
}
