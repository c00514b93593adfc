import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lineWindow, splitLines } from '../../mcp-server/file-content.js';

/** The plain way, kept as the reference: split into lines, add each with its "\n" while under the cap. */
function reference(text: string, start: number, end: number | undefined, maxBytes: number) {
  const { lines, terminated } = splitLines(text);
  const total = lines.length;
  const stop = Math.min(end ?? total, total);
  const parts: string[] = [];
  let bytes = 0;
  let last = start - 1;
  for (let i = start - 1; i < stop; i++) {
    const line = lines[i]! + (i < total - 1 || terminated ? '\n' : '');
    const size = Buffer.byteLength(line);
    if (last >= start && bytes + size > maxBytes) break;
    parts.push(line);
    bytes += size;
    last = i + 1;
  }
  return { text: parts.join(''), total, last };
}

describe('lineWindow', () => {
  it('reads the same lines as splitting the text would, for any text, range and cap', () => {
    const line = fc.string({ unit: fc.constantFrom('a', 'é', '€', '😀', ' ', '\r'), maxLength: 12 });
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 30 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 35 }),
        fc.option(fc.integer({ min: 1, max: 35 }), { nil: undefined }),
        fc.integer({ min: 1, max: 80 }),
        (lines, trailingNewline, start, span, maxBytes) => {
          const text = lines.join('\n') + (trailingNewline && lines.length > 0 ? '\n' : '');
          const end = span === undefined ? undefined : start + span - 1;
          expect(lineWindow(Buffer.from(text), start, end, maxBytes)).toEqual(
            reference(text, start, end, maxBytes),
          );
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('counts lines as an editor does and always returns at least one line', () => {
    expect(lineWindow(Buffer.from(''), 1, undefined, 10)).toEqual({ text: '', total: 0, last: 0 });
    expect(lineWindow(Buffer.from('a\nb'), 1, undefined, 10)).toEqual({ text: 'a\nb', total: 2, last: 2 });
    expect(lineWindow(Buffer.from('a\nb\n'), 2, undefined, 10)).toEqual({ text: 'b\n', total: 2, last: 2 });
    expect(lineWindow(Buffer.from('long line\nx\n'), 1, undefined, 3)).toEqual({
      text: 'long line\n',
      total: 2,
      last: 1,
    });
  });
});
