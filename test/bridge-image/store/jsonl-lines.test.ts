import { describe, expect, it } from 'vitest';
import { ImportError } from '../../../bridge-image/src/store/import-error.js';
import { splitLines } from '../../../bridge-image/src/store/jsonl-lines.js';

async function collect(
  source: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>,
  max?: number,
) {
  const out: [number, string][] = [];
  for await (const l of splitLines(source, max)) out.push([l.n, l.bytes.toString()]);
  return out;
}

describe('splitLines', () => {
  it('splits lines across chunk boundaries, with \\n or \\r\\n, the last ending optional', async () => {
    expect(await collect(['a', 'b\nc', 'd\r', '\n\n', 'é', Buffer.from('\nlast')])).toEqual([
      [1, 'ab'],
      [2, 'cd'],
      [3, ''],
      [4, 'é'],
      [5, 'last'],
    ]);
    expect(await collect(['one\n'])).toEqual([[1, 'one']]);
    expect(await collect([])).toEqual([]);
  });

  it('refuses a line past the limit as soon as it passes, naming it, without reading further', async () => {
    let pulled = 0;
    const source = (function* () {
      yield 'short\n';
      for (;;) {
        pulled++;
        yield 'x'.repeat(100);
      }
    })();
    const err = await collect(source, 1000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportError);
    expect(err).toMatchObject({ line: 2, message: expect.stringMatching(/^line 2: longer than 1000 bytes/) });
    // Ten pieces fill it; the eleventh passes it.
    expect(pulled).toBe(11);
    // Exactly at the limit is fine.
    expect(await collect(['x'.repeat(1000), '\n'], 1000)).toEqual([[1, 'x'.repeat(1000)]]);
  });
});
