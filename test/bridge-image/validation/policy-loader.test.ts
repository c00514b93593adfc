import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_POLICY,
  loadPolicy,
  PolicyError,
  policyFile,
  readPolicyFile,
  watchPolicy,
  type Policy,
  type PolicyWatcher,
} from '../../../bridge-image/src/validation/index.js';
import { tempDir } from '../../helpers/temp-dirs.js';

const watchers: PolicyWatcher[] = [];
afterEach(() => {
  for (const w of watchers.splice(0)) w.close();
});

function workspace(policy?: unknown): string {
  const dir = tempDir('lh-policy-');
  if (policy !== undefined) write(dir, typeof policy === 'string' ? policy : JSON.stringify(policy));
  return dir;
}

function write(ws: string, text: string): void {
  fs.mkdirSync(path.join(ws, '.lighthouse'), { recursive: true });
  fs.writeFileSync(policyFile(ws), text);
}

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const branches = (p: Policy) => p.protectedBranches.map((b) => b.source);

function watch(ws: string) {
  const changes: Policy[] = [];
  const errors: PolicyError[] = [];
  const w = watchPolicy(ws, {
    debounceMs: 20,
    onChange: (p) => changes.push(p),
    onError: (e) => errors.push(e),
  });
  watchers.push(w);
  return { w, changes, errors };
}

describe('policy loader', () => {
  it('uses the defaults when the workspace has no policy', () => {
    expect(loadPolicy(workspace())).toBe(DEFAULT_POLICY);
    expect(readPolicyFile(path.join(workspace(), 'missing.json'))).toBeNull();
  });

  it('reads and validates the policy file', () => {
    const ws = workspace({ protectedBranches: ['trunk'] });
    const p = loadPolicy(ws);
    expect(branches(p)).toEqual(['trunk']);
    expect(p.source).toBe(policyFile(ws));
  });

  it('throws a PolicyError naming the field', () => {
    const ws = workspace({ rules: [{ id: 'x', match: { argv0: 'a' }, decision: 'nope', reason: 'r' }] });
    expect(() => loadPolicy(ws)).toThrow(PolicyError);
    expect(() => loadPolicy(ws)).toThrow(
      'policy.json: rules[0].decision: expected "approved" | "blocked" | "escalate"',
    );
  });
});

describe('policy watcher', () => {
  it('reloads when the file changes', async () => {
    const ws = workspace({ protectedBranches: ['one'] });
    const { w, changes } = watch(ws);
    expect(branches(w.current)).toEqual(['one']);
    write(ws, JSON.stringify({ protectedBranches: ['two'] }));
    await until('the change', () => changes.length > 0);
    expect(branches(w.current)).toEqual(['two']);
    expect(changes.map(branches)).toEqual([['two']]);
  });

  it('keeps the last good policy when the new file is invalid, and reports why', async () => {
    const ws = workspace({ protectedBranches: ['good'] });
    const { w, changes, errors } = watch(ws);
    write(ws, JSON.stringify({ protectedBranches: ['x'], escalationDefault: 'sometimes' }));
    await until('the error', () => errors.length > 0);
    expect(errors[0]?.message).toBe('policy.json: escalationDefault: expected "block" | "approve"');
    expect(branches(w.current)).toEqual(['good']);
    expect(w.lastError).toBe(errors[0]);
    write(ws, '{ "protectedBranches": [');
    await until('the JSON error', () => errors.length > 1);
    expect(errors[1]?.message).toMatch(/^policy\.json: invalid JSON/);
    expect(branches(w.current)).toEqual(['good']);
    write(ws, JSON.stringify({ protectedBranches: ['fixed'] }));
    await until('the fix', () => changes.length > 0);
    expect(branches(w.current)).toEqual(['fixed']);
    expect(w.lastError).toBeNull();
  });

  it('follows editors that save by renaming a new file over the old one', async () => {
    const ws = workspace({ protectedBranches: ['one'] });
    const { w, changes } = watch(ws);
    const tmp = path.join(ws, '.lighthouse', '.policy.json.swp');
    for (const name of ['two', 'three']) {
      fs.writeFileSync(tmp, JSON.stringify({ protectedBranches: [name] }));
      fs.renameSync(tmp, policyFile(ws));
      await until(`the rename to ${name}`, () => branches(w.current)[0] === name);
    }
    expect(changes.length).toBeGreaterThanOrEqual(2);
  });

  it('notices a policy created after it started, and falls back to defaults when it is deleted', async () => {
    const ws = workspace();
    const { w, changes } = watch(ws);
    expect(w.current).toBe(DEFAULT_POLICY);
    write(ws, JSON.stringify({ protectedBranches: ['new'] }));
    await until('the new policy', () => branches(w.current)[0] === 'new');
    fs.rmSync(policyFile(ws));
    await until('the defaults', () => w.current === DEFAULT_POLICY);
    expect(changes.at(-1)).toBe(DEFAULT_POLICY);
  });

  it('reports an invalid file at start and runs with the defaults', () => {
    const ws = workspace('not json');
    const { w, errors } = watch(ws);
    expect(w.current).toBe(DEFAULT_POLICY);
    expect(errors).toHaveLength(1);
  });

  it('reloads on demand and stops after close', async () => {
    const ws = workspace({ protectedBranches: ['a'] });
    const { w, changes } = watch(ws);
    w.close();
    write(ws, JSON.stringify({ protectedBranches: ['b'] }));
    await new Promise((r) => setTimeout(r, 150));
    expect(changes).toEqual([]);
    expect(branches(w.current)).toEqual(['a']);
    w.reload();
    expect(branches(w.current)).toEqual(['b']);
  });
});
