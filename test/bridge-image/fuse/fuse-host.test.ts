import { describe, expect, it } from 'vitest';
import { cacheSeconds, watchLimit } from '../../../bridge-image/src/fuse/fuse-host.js';

describe('FUSE settings', () => {
  it('reads LIGHTHOUSE_FUSE_CACHE_SECONDS and LIGHTHOUSE_FUSE_WATCH_LIMIT, with defaults for bad values', () => {
    expect(cacheSeconds({})).toBe(10);
    expect(cacheSeconds({ LIGHTHOUSE_FUSE_CACHE_SECONDS: '0' })).toBe(0);
    expect(cacheSeconds({ LIGHTHOUSE_FUSE_CACHE_SECONDS: '2.5' })).toBe(2.5);
    expect(cacheSeconds({ LIGHTHOUSE_FUSE_CACHE_SECONDS: 'soon' })).toBe(10);
    expect(cacheSeconds({ LIGHTHOUSE_FUSE_CACHE_SECONDS: '-1' })).toBe(10);
    expect(watchLimit({})).toBe(4096);
    expect(watchLimit({ LIGHTHOUSE_FUSE_WATCH_LIMIT: '10' })).toBe(10);
    expect(watchLimit({ LIGHTHOUSE_FUSE_WATCH_LIMIT: '1.5' })).toBe(4096);
  });
});
