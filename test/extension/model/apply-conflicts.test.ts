/**
 * The rule Apply follows for conflicting changes (extension/model/apply-conflicts.ts, used by the
 * Apply commands): what the developer is told, and that a list without a conflict asks nothing.
 */
import { describe, expect, it } from 'vitest';
import type { ShadowChange } from '../../../bridge-image/protocol/index.js';
import { conflictNotice, conflictReason } from '../../../extension/model/apply-conflicts.js';

const change = (p: string, over: Partial<ShadowChange> = {}): ShadowChange => ({
  path: p,
  status: 'modified',
  hash: 'new',
  baseHash: 'old',
  currentBaseHash: 'old',
  conflict: false,
  alsoChangedBy: [],
  movedFrom: null,
  seq: 1,
  ...over,
});

describe('conflicting changes at Apply', () => {
  it('asks nothing when no change conflicts', () => {
    expect(conflictNotice('bob', [change('a.js'), change('b.js')])).toBeUndefined();
    expect(conflictNotice('bob', [])).toBeUndefined();
  });

  it('names each conflicting change and why: another agent, a workspace that moved on, or both', () => {
    const other = change('src/greet.js', { conflict: true, alsoChangedBy: ['alice', 'carol'] });
    const stale = change('src/math.js', { conflict: true, currentBaseHash: 'applied' });
    const both = change('README.md', { conflict: true, alsoChangedBy: ['alice'], currentBaseHash: 'x' });
    expect(conflictReason(other)).toBe('src/greet.js (also changed by alice, carol)');
    expect(conflictReason(stale)).toBe('src/math.js (the workspace changed since the agent read it)');
    expect(conflictReason(both)).toBe(
      'README.md (also changed by alice; the workspace changed since the agent read it)',
    );
    const notice = conflictNotice('bob', [change('ok.js'), other, stale]);
    expect(notice?.what).toBe(
      "2 of bob's changes conflict; applying them overwrites the workspace's version",
    );
    expect(notice?.detail.split('\n')).toEqual([conflictReason(other), conflictReason(stale)]);
  });

  it('lists at most ten and says how many more', () => {
    const many = Array.from({ length: 13 }, (_, i) =>
      change(`f${i}.js`, { conflict: true, alsoChangedBy: ['a'] }),
    );
    const detail = conflictNotice('bob', many)?.detail.split('\n') ?? [];
    expect(detail).toHaveLength(11);
    expect(detail.at(-1)).toBe('…and 3 more');
  });
});
