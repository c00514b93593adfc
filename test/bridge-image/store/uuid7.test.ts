import { describe, expect, it } from 'vitest';
import { uuid7 } from '../../../bridge-image/src/store/uuid7.js';

describe('uuid7', () => {
  it('is an RFC 9562 version 7 UUID carrying the millisecond it was made', () => {
    const now = Date.now();
    const id = uuid7(now);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(now);
  });

  it('differs every time, sorts by time, and uses every variant digit', () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => uuid7(1_700_000_000_000 + Math.floor(i / 100)));
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 100; i < ids.length; i += 100) expect(ids[i - 100]! < ids[i]!).toBe(true);
    expect(new Set(ids.map((x) => x[19])).size).toBe(4);
  });
});
