import { describe, expect, it } from 'vitest';
import {
  DEFAULT_POLICY,
  DEFAULT_PROTECTED_BRANCHES,
  parsePolicy,
  parsePolicyText,
  PolicyError,
} from '../../../bridge-image/src/validation/index.js';

const issues = (json: unknown): string[] => {
  try {
    parsePolicy(json, '/ws/.lighthouse/policy.json');
  } catch (e) {
    if (e instanceof PolicyError) return e.issues;
    throw e;
  }
  return [];
};
const rule = (over: Record<string, unknown> = {}) => ({
  id: 'r1',
  match: { argv0: 'docker' },
  decision: 'escalate',
  reason: 'because',
  ...over,
});

describe('policy file', () => {
  it('has defaults: main, master and release/* protected, escalations block', () => {
    expect(DEFAULT_POLICY.protectedBranches.map((b) => b.source)).toEqual(DEFAULT_PROTECTED_BRANCHES);
    expect(DEFAULT_POLICY.escalationDefault).toBe('block');
    expect(DEFAULT_POLICY.rules).toEqual([]);
    expect(DEFAULT_POLICY.source).toBeNull();
  });

  it('compiles rules, paths and settings', () => {
    const p = parsePolicy(
      {
        rules: [rule({ match: { tool: ['Bash'], command: '^docker', argv0: ['docker'], path: 'x/**' } })],
        protectedBranches: ['trunk'],
        allowedOutsideWorkspace: ['/tmp'],
        escalationDefault: 'approve',
        disabledRules: ['read-secret'],
      },
      '/ws/.lighthouse/policy.json',
    );
    const r = p.rules[0];
    expect(r?.command?.test('docker ps')).toBe(true);
    expect(r?.tools?.has('bash')).toBe(true);
    expect(r?.paths?.[0]?.test('/ws/x/y', '/ws', '/h')).toBe(true);
    expect(p.protectedBranches.map((b) => b.source)).toEqual(['trunk']);
    expect(p.escalationDefault).toBe('approve');
    expect(p.disabledRules.has('read-secret')).toBe(true);
    expect(p.source).toBe('/ws/.lighthouse/policy.json');
  });

  it('names the rule index and field of each problem', () => {
    expect(issues({ rules: [rule(), rule({ id: 'r2' }), rule({ id: 'r3', decision: 'deny' })] })).toEqual([
      'policy.json: rules[2].decision: expected "approved" | "blocked" | "escalate"',
    ]);
    expect(issues({ rules: [rule({ match: { command: '(' } })] })[0]).toMatch(
      /^policy\.json: rules\[0\]\.match\.command: invalid regular expression: /,
    );
    expect(issues({ rules: [rule({ match: {} })] })).toEqual([
      'policy.json: rules[0].match: needs at least one of "command", "argv0", "path", "tool"',
    ]);
    expect(issues({ rules: [rule({ reason: '' })] })).toEqual([
      'policy.json: rules[0].reason: must not be empty',
    ]);
    expect(issues({ rules: [rule({ id: 'Bad Id' })] })[0]).toMatch(
      /^policy\.json: rules\[0\]\.id: expected 1-64/,
    );
  });

  it('reports every problem at once', () => {
    const all = issues({
      rules: [rule(), rule()],
      protectedPaths: [{ glob: 'a', decision: 'maybe' }],
      escalationDefault: 'never',
      disabledRules: ['no-such-rule'],
      extra: true,
    });
    expect(all).toHaveLength(5);
    expect(all).toEqual(
      expect.arrayContaining([
        'policy.json: rules[1].id: duplicate id "r1"',
        expect.stringMatching(/^policy\.json: protectedPaths\[0\]: expected a glob string or/),
        'policy.json: escalationDefault: expected "block" | "approve"',
        expect.stringMatching(
          /^policy\.json: disabledRules\[0\]: unknown built-in rule "no-such-rule"; known: /,
        ),
        'policy.json: Unrecognized key: "extra"',
      ]),
    );
  });

  it('refuses rule ids that shadow built-in rules', () => {
    expect(issues({ rules: [rule({ id: 'read-secret' })] })).toEqual([
      'policy.json: rules[0].id: "read-secret" is a built-in rule id',
    ]);
  });

  it('reports invalid JSON with its place', () => {
    expect(() => parsePolicyText('{\n  "rules": [,]\n}', '/ws/.lighthouse/policy.json')).toThrow(
      /^policy\.json: invalid JSON: Unexpected token/,
    );
    expect(() => parsePolicyText('', null)).toThrow(/^policy\.json: invalid JSON: /);
  });
});
