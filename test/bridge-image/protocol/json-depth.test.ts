import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  clipDeepJson,
  MAX_JSON_DEPTH,
  nestsDeeperThan,
  UNREADABLE,
} from '../../../bridge-image/protocol/index.js';

const nest = (n: number, inner = '') => '['.repeat(n) + inner + ']'.repeat(n);

/** Depth of a parsed value, walked without recursion. */
function depthOf(v: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[v, 0]];
  while (stack.length) {
    const [x, d] = stack.pop()!;
    if (x === null || typeof x !== 'object') continue;
    max = Math.max(max, d + 1);
    for (const c of Object.values(x)) stack.push([c, d + 1]);
  }
  return max;
}

describe('nestsDeeperThan', () => {
  it('takes exactly the limit and refuses one level more, as text and as UTF-8 bytes', () => {
    for (const as of [(s: string) => s, (s: string) => Buffer.from(s)]) {
      expect(nestsDeeperThan(as(nest(MAX_JSON_DEPTH)))).toBe(false);
      expect(nestsDeeperThan(as(nest(MAX_JSON_DEPTH + 1)))).toBe(true);
      expect(nestsDeeperThan(as(`{"a":${nest(MAX_JSON_DEPTH - 1)}}`))).toBe(false);
      expect(nestsDeeperThan(as(`{"a":${nest(MAX_JSON_DEPTH)}}`))).toBe(true);
    }
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    const s = JSON.stringify({ s: '['.repeat(500), t: '\\"[[[[' + '{'.repeat(300), u: 'é😀' });
    expect(nestsDeeperThan(s)).toBe(false);
    expect(nestsDeeperThan(Buffer.from(s))).toBe(false);
    expect(nestsDeeperThan(`["\\\\",${nest(MAX_JSON_DEPTH)}]`)).toBe(true);
  });

  it('agrees with the depth of what JSON.parse makes of any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 1, max: 12 }), (v, limit) => {
        const text = JSON.stringify(v);
        expect(nestsDeeperThan(text, limit)).toBe(depthOf(v) > limit);
        expect(nestsDeeperThan(Buffer.from(text), limit)).toBe(depthOf(v) > limit);
      }),
    );
  });
});

describe('clipDeepJson', () => {
  it('replaces what reaches deeper than the limit by a marker holding its text, keeping the rest', () => {
    const text = `{"keep":[1,"x"],"deep":${nest(5000, '"in"')},"after":true}`;
    const clipped = JSON.parse(clipDeepJson(text, 10)!) as Record<string, unknown>;
    expect(depthOf(clipped)).toBe(10);
    expect(clipped.keep).toEqual([1, 'x']);
    expect(clipped.after).toBe(true);
    let v = clipped.deep;
    for (let i = 0; i < 8; i++) v = (v as unknown[])[0];
    expect(v).toEqual({ [UNREADABLE]: 'nests deeper than 10 levels', json: nest(5000 - 8, '"in"') });
  });

  it('for any JSON wrapped too deep: parses, nests at most the limit, and leaves shallow values equal', () => {
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 4 }),
        fc.jsonValue({ maxDepth: 4 }),
        fc.integer({ min: 2, max: 8 }),
        fc.integer({ min: 0, max: 40 }),
        (shallow, inner, limit, extra) => {
          const head = JSON.stringify({ shallow: depthOf(shallow) < limit ? shallow : null });
          const text = `${head.slice(0, -1)},"d":${nest(limit + extra, JSON.stringify(inner))}}`;
          const out = JSON.parse(clipDeepJson(text, limit)!) as { shallow: unknown };
          expect(depthOf(out)).toBeLessThanOrEqual(limit);
          expect(out.shallow).toEqual(JSON.parse(text).shallow);
        },
      ),
    );
  });

  it('gives undefined for text whose brackets do not balance', () => {
    expect(clipDeepJson(nest(20).slice(0, -1), 5)).toBeUndefined();
    expect(clipDeepJson('["open string', 5)).toBeUndefined();
  });
});
