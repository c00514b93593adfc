import { describe, expect, it } from 'vitest';
import { NonceCache } from '../../../bridge-image/src/auth/nonce-cache.js';

const WINDOW = 30_000;
const T0 = 1_700_000_000_000;

describe('NonceCache', () => {
  it('refuses a nonce seen before while its request is still valid', () => {
    const c = new NonceCache(WINDOW, 1000);
    expect(c.check('a', T0, T0)).toBe('ok');
    expect(c.check('a', T0, T0 + 1)).toBe('replay');
    expect(c.check('a', T0, T0 + WINDOW)).toBe('replay');
    expect(c.check('b', T0, T0 + WINDOW)).toBe('ok');
  });

  it('keeps a nonce from a clock ahead of ours until its own timestamp leaves the window', () => {
    const c = new NonceCache(WINDOW, 1000);
    const ahead = T0 + 29_000;
    expect(c.check('a', ahead, T0)).toBe('ok');
    // Still acceptable by timestamp 59 s after arrival, so still refused as a replay.
    expect(c.check('a', ahead, T0 + 59_000)).toBe('replay');
  });

  it('forgets nonces whose timestamps have left the window, so a steady rate never fills it', () => {
    // 2,000 requests a second for 200 s with room for 100,000: kept by arrival for two windows, this
    // would need 240,000 entries; kept by timestamp it needs about one window's worth.
    const c = new NonceCache(WINDOW, 100_000);
    let largest = 0;
    const refused: string[] = [];
    for (let ms = 0; ms < 200_000; ms += 0.5) {
      const now = T0 + ms;
      const r = c.check(`n${ms}`, now - (ms % 3000), now);
      if (r !== 'ok' && refused.push(`${r} at ${ms} ms`) > 3) break;
      largest = Math.max(largest, c.size);
    }
    expect(refused).toEqual([]);
    expect(largest).toBeLessThanOrEqual(2000 * (WINDOW / 1000 + 4));
    expect(largest).toBeGreaterThanOrEqual(2000 * (WINDOW / 1000 - 1));
  });

  it('when full, refuses new nonces but still recognises replays', () => {
    const c = new NonceCache(WINDOW, 3);
    for (const n of ['a', 'b', 'c']) expect(c.check(n, T0, T0)).toBe('ok');
    expect(c.check('d', T0, T0)).toBe('full');
    expect(c.check('a', T0, T0)).toBe('replay');
    // Once those requests are past the window there is room again.
    expect(c.check('d', T0 + WINDOW + 2000, T0 + WINDOW + 2000)).toBe('ok');
    expect(c.size).toBe(1);
  });

  it('cannot vouch for a timestamp whose second was already dropped (the clock went back)', () => {
    const c = new NonceCache(WINDOW, 1000);
    expect(c.check('a', T0, T0)).toBe('ok');
    const later = T0 + WINDOW + 5000;
    expect(c.check('b', later, later)).toBe('ok');
    // The clock steps back 10 s: a request stamped T0 is within ±30 s again, but its nonce is gone.
    expect(c.check('a', T0, later - 10_000)).toBe('forgotten');
  });
});
