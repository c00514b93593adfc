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

export interface LineWindow {
  /** The lines read, each with its "\n" (the last line of the file may have none). */
  text: string;
  /** Lines in the whole file. */
  total: number;
  /** The last line read (counting from 1); start - 1 when nothing was read. */
  last: number;
}

const NL = 0x0a;

/**
 * Lines start..end (from 1, inclusive) of UTF-8 text, whole lines up to `maxBytes` but at least one
 * however long, so that reading on from `last + 1` always advances. Works on the bytes ("\n" never
 * occurs inside a multi-byte character) and decodes once: a 100 KB file is read without splitting
 * it into a string per line.
 */
export function lineWindow(
  data: Buffer,
  start: number,
  end: number | undefined,
  maxBytes: number,
): LineWindow {
  let newlines = 0;
  for (let i = data.indexOf(NL); i !== -1; i = data.indexOf(NL, i + 1)) newlines++;
  const terminated = data.length > 0 && data[data.length - 1] === NL;
  const total = data.length === 0 ? 0 : newlines + (terminated ? 0 : 1);
  const stop = Math.min(end ?? total, total);
  // The common case, a whole file under the cap: no second pass.
  if (start === 1 && stop === total && data.length <= maxBytes) {
    return { text: data.toString('utf8'), total, last: total };
  }
  let from = 0;
  for (let line = 1; line < start && from < data.length; line++) {
    const nl = data.indexOf(NL, from);
    from = nl === -1 ? data.length : nl + 1;
  }
  let to = from;
  let last = start - 1;
  for (let line = start; line <= stop; line++) {
    const nl = data.indexOf(NL, to);
    const next = nl === -1 ? data.length : nl + 1;
    if (last >= start && next - from > maxBytes) break;
    to = next;
    last = line;
  }
  return { text: data.toString('utf8', from, to), total, last };
}
