import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { ValidationResult } from '../../../bridge-image/protocol/index.js';
import { DEFAULT_POLICY, parsePolicy, validate } from '../../../bridge-image/src/validation/index.js';

const ctx = (policy: unknown = {}) => ({
  workspace: '/ws',
  home: '/home/u',
  policy: parsePolicy(policy, null),
});
const bash = (command: string, cwd?: string) => ({ tool: 'Bash', input: { command }, agentId: 'a', cwd });

describe('validate', () => {
  it('answers in the wire shape of the protocol', () => {
    for (const req of [
      bash('ls'),
      bash('rm -rf /'),
      bash('rm -rf "$X/"'),
      { tool: 'Read', input: {}, agentId: 'a' },
    ]) {
      const r = validate(req, ctx());
      const { cached, ...result } = r;
      expect(ValidationResult.parse(result)).toEqual(result);
      expect(typeof cached).toBe('boolean');
    }
  });

  it('gives a line the most severe decision of its commands', () => {
    expect(validate(bash('rm -rf "$X/"; cat .env; ls'), ctx())).toMatchObject({
      decision: 'blocked',
      rule: 'read-secret',
    });
    expect(validate(bash('ls && rm -rf "$X/"'), ctx())).toMatchObject({ decision: 'escalate' });
  });

  it('lets a policy rule decide for the command it matches, before the built-ins', () => {
    const policy = {
      rules: [
        {
          id: 'ok-reset',
          match: { command: '^rm -rf /var/cache/app$' },
          decision: 'approved',
          reason: 'cache',
        },
      ],
    };
    expect(validate(bash('rm -rf /var/cache/app'), ctx())).toMatchObject({ decision: 'blocked' });
    expect(validate(bash('rm -rf /var/cache/app'), ctx(policy))).toMatchObject({
      decision: 'approved',
      rule: 'ok-reset',
      confidence: 1,
    });
    // The approval covers that command only, not its neighbours.
    expect(validate(bash('rm -rf /var/cache/app && rm -rf /etc'), ctx(policy))).toMatchObject({
      decision: 'blocked',
    });
  });

  it('takes the first matching policy rule', () => {
    const policy = {
      rules: [
        { id: 'first', match: { argv0: 'make' }, decision: 'escalate', reason: 'one' },
        { id: 'second', match: { argv0: 'make' }, decision: 'blocked', reason: 'two' },
      ],
    };
    expect(validate(bash('make deploy'), ctx(policy))).toMatchObject({ rule: 'first', decision: 'escalate' });
  });

  it('matches policy rules on the unwrapped command and on the command as written', () => {
    const policy = {
      rules: [
        { id: 'k', match: { argv0: 'kubectl', command: '\\bdelete\\b' }, decision: 'escalate', reason: 'r' },
        { id: 's', match: { command: '^sudo ' }, decision: 'escalate', reason: 'r' },
      ],
    };
    expect(validate(bash(`bash -c 'kubectl delete ns x'`), ctx(policy)).rule).toBe('k');
    expect(validate(bash('sudo ls'), ctx(policy)).rule).toBe('s');
    expect(validate(bash('echo kubectl delete'), ctx(policy)).rule).toBeNull();
  });

  it('matches policy rules by tool and by path', () => {
    const policy = {
      rules: [
        { id: 'web', match: { tool: 'WebFetch' }, decision: 'escalate', reason: 'r' },
        { id: 'gen', match: { path: 'generated/**' }, decision: 'blocked', reason: 'generated code' },
      ],
    };
    expect(validate({ tool: 'WebFetch', input: { url: 'x' }, agentId: 'a' }, ctx(policy)).rule).toBe('web');
    expect(validate({ tool: 'webfetch', input: {}, agentId: 'a' }, ctx(policy)).rule).toBe('web');
    expect(
      validate({ tool: 'Edit', input: { file_path: 'generated/a.ts' }, agentId: 'a' }, ctx(policy)).rule,
    ).toBe('gen');
    expect(validate(bash('echo x > generated/b.ts'), ctx(policy)).rule).toBe('gen');
    expect(validate(bash('echo x > src/b.ts'), ctx(policy)).rule).toBeNull();
  });

  it('resolves relative paths against the request directory, relative to the workspace', () => {
    expect(
      validate({ tool: 'Write', input: { file_path: '../x' }, agentId: 'a', cwd: 'sub' }, ctx()).decision,
    ).toBe('approved');
    expect(validate({ tool: 'Write', input: { file_path: '../x' }, agentId: 'a' }, ctx()).decision).toBe(
      'blocked',
    );
    expect(validate(bash('rm -rf ..', 'a/b'), ctx()).decision).toBe('approved');
  });

  it('approves tools it knows nothing about, and lowers confidence for unknown values', () => {
    expect(
      validate({ tool: 'mcp__x__y', input: { command: 'rm -rf /' }, agentId: 'a' }, ctx()),
    ).toMatchObject({
      decision: 'approved',
      rule: null,
    });
    const sure = validate(bash('ls src'), ctx());
    const unsure = validate(bash('ls "$DIR"'), ctx());
    expect(sure.confidence).toBeGreaterThan(unsure.confidence);
    expect(validate(bash(''), ctx()).reason).toBe('nothing to run');
  });

  it('accepts argv arrays and plain strings as shell input', () => {
    expect(
      validate({ tool: 'Bash', input: { command: ['rm', '-rf', '/'] }, agentId: 'a' }, ctx()).decision,
    ).toBe('blocked');
    expect(
      validate({ tool: 'shell', input: { command: ['echo', "it's; rm -rf /"] }, agentId: 'a' }, ctx())
        .decision,
    ).toBe('approved');
    expect(validate({ tool: 'Bash', input: 'cat .env', agentId: 'a' }, ctx()).rule).toBe('read-secret');
  });

  it("uses the bridge user's home directory when none is given", () => {
    const r = validate(bash('rm -rf ~'), { workspace: '/ws', policy: DEFAULT_POLICY });
    expect(r.reason).toContain(os.homedir());
  });

  it('stays within its time budget on a long line', () => {
    const line = (n: number) =>
      Array.from({ length: n }, (_, i) => `echo "$(date) ${i}" | grep -v x > out${i}.txt`).join(' && ');
    const t = performance.now();
    expect(validate(bash(line(150)), ctx()).decision).toBe('approved');
    expect(performance.now() - t).toBeLessThan(500);
    // Past the cap on commands the line is not followed to the end, so it is not approved.
    expect(validate(bash(line(200)), ctx())).toMatchObject({ decision: 'escalate', rule: 'unparseable' });
  });
});
