import { describe, expect, it } from 'vitest';
import {
  cacheKey,
  DecisionCache,
  DEFAULT_POLICY,
  parsePolicy,
  stableStringify,
  validate,
} from '../../../bridge-image/src/validation/index.js';

const result = (rule: string) => ({ decision: 'blocked' as const, confidence: 1, reason: rule, rule });

describe('decision cache', () => {
  it('evicts the least recently used entry when full', () => {
    const c = new DecisionCache(2);
    c.bind(DEFAULT_POLICY, '/ws', '/h');
    c.set('a', result('a'));
    c.set('b', result('b'));
    expect(c.get('a')?.rule).toBe('a');
    c.set('c', result('c'));
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')?.rule).toBe('a');
    expect(c.get('c')?.rule).toBe('c');
    expect(c.stats()).toMatchObject({ size: 2, capacity: 2, evictions: 1, hits: 3, misses: 1 });
  });

  it('counts hits per entry and overall', () => {
    const c = new DecisionCache(10);
    c.set('k', result('k'));
    c.get('k');
    c.get('k');
    c.get('nope');
    expect(c.hitsFor('k')).toBe(2);
    expect(c.hitsFor('nope')).toBeUndefined();
    expect(c.stats().hitRate).toBeCloseTo(2 / 3);
    expect(c.top(1)).toEqual([{ key: 'k', hits: 2, result: result('k') }]);
  });

  it('empties itself when the policy, workspace or home changes', () => {
    const c = new DecisionCache(10);
    c.bind(DEFAULT_POLICY, '/ws', '/h');
    c.set('k', result('k'));
    c.bind(DEFAULT_POLICY, '/ws', '/h');
    expect(c.stats().size).toBe(1);
    c.bind(parsePolicy({}, null), '/ws', '/h');
    expect(c.stats().size).toBe(0);
    c.set('k', result('k'));
    c.bind(DEFAULT_POLICY, '/other', '/h');
    expect(c.stats().size).toBe(0);
  });

  it('refuses a capacity below one', () => {
    expect(() => new DecisionCache(0)).toThrow(RangeError);
  });

  it('builds keys that ignore key order and hash long inputs', () => {
    expect(stableStringify({ b: 1, a: [{ d: 2, c: 3 }] })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
    expect(cacheKey('Edit', 'x', '/ws')).not.toBe(cacheKey('Edit', 'x', '/ws/sub'));
    expect(cacheKey('Write', 'y'.repeat(5000), '/ws')).toMatch(/^#/);
    expect(cacheKey('Write', 'y'.repeat(5000), '/ws')).not.toBe(cacheKey('Write', 'y'.repeat(4999), '/ws'));
  });

  it('answers repeated validations from the cache, per directory', () => {
    const cache = new DecisionCache(100);
    const ctx = { workspace: '/ws', home: '/h', policy: DEFAULT_POLICY, cache };
    const req = { tool: 'Bash', input: { command: 'rm -rf ..' }, agentId: 'a' };
    const first = validate(req, ctx);
    const second = validate({ ...req, agentId: 'b' }, ctx);
    expect(first.cached).toBe(false);
    expect(second).toEqual({ ...first, cached: true });
    // The same line in another directory is another question.
    const deeper = validate({ ...req, cwd: '/ws/a/b' }, ctx);
    expect(deeper.cached).toBe(false);
    expect(deeper.decision).toBe('approved');
    expect(first.decision).toBe('blocked');
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 2, size: 2 });
  });

  it('does not serve decisions made under a previous policy', () => {
    const cache = new DecisionCache(100);
    const req = { tool: 'Bash', input: { command: 'echo x > /tmp/a' }, agentId: 'a' };
    expect(validate(req, { workspace: '/ws', home: '/h', policy: DEFAULT_POLICY, cache }).decision).toBe(
      'blocked',
    );
    const relaxed = parsePolicy({ allowedOutsideWorkspace: ['/tmp'] }, null);
    const after = validate(req, { workspace: '/ws', home: '/h', policy: relaxed, cache });
    expect(after).toMatchObject({ decision: 'approved', cached: false });
  });
});
