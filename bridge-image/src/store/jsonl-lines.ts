import { ImportError } from './import-error.js';

/**
 * The longest line an import takes. An export (format 2) holds at most a 1 MiB chunk per line, about
 * 1.4 MB as base64; format 1 held every blob whole in one line, and the bridge took blobs of up to
 * 64 MiB (about 90 MB as base64), so that is what still fits.
 */
export const MAX_LINE_BYTES = 96 * 1024 * 1024;

/**
 * Splits a byte stream into lines as it arrives (1-based numbers, "\n" or "\r\n" endings, the last
 * line's ending optional), holding no more than the line being read: a line that grows past
 * `maxBytes` is refused as soon as it does, before the rest of it is read.
 */
export async function* splitLines(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  maxBytes = MAX_LINE_BYTES,
): AsyncGenerator<{ n: number; bytes: Buffer }> {
  let parts: Buffer[] = [];
  let size = 0;
  let n = 0;
  const tooLong = () =>
    new ImportError(
      `line ${n + 1}: longer than ${maxBytes} bytes, more than any line of an export holds ` +
        '(is this a Lighthouse JSONL export?)',
      n + 1,
    );
  for await (const chunk of source) {
    const buf =
      typeof chunk === 'string'
        ? Buffer.from(chunk)
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let at = 0;
    for (;;) {
      const nl = buf.indexOf(10, at);
      const end = nl < 0 ? buf.length : nl;
      if (size + end - at > maxBytes) throw tooLong();
      if (nl < 0) {
        if (end > at) {
          parts.push(buf.subarray(at));
          size += end - at;
        }
        break;
      }
      n++;
      const tail = buf.subarray(at, nl);
      const line = parts.length === 0 ? tail : Buffer.concat([...parts, tail], size + tail.length);
      parts = [];
      size = 0;
      yield { n, bytes: stripCr(line) };
      at = nl + 1;
    }
  }
  if (size > 0) yield { n: n + 1, bytes: stripCr(Buffer.concat(parts, size)) };
}

const stripCr = (b: Buffer): Buffer => (b.length > 0 && b[b.length - 1] === 13 ? b.subarray(0, -1) : b);
