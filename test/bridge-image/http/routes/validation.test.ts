import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridge, tempDir, type BridgeProcess } from '../../../helpers/bridge-process.js';

let b: BridgeProcess;
let ws: string;
beforeAll(async () => {
  ws = path.join(tempDir(), 'ws');
  fs.mkdirSync(ws, { recursive: true });
  b = await startBridge({ workspace: ws });
});
afterAll(async () => {
  await b.stop();
});

describe('POST /v1/validate', () => {
  it('decides over HTTP, names the rule, and records the request and the decision as events', async () => {
    const a = b.agent('runner');
    const bad = await a.validate({ tool: 'Bash', input: { command: "bash -c 'rm -rf /'" }, cwd: ws });
    expect(bad).toMatchObject({ decision: 'blocked', rule: 'recursive-delete-root' });
    expect(bad.reason.length).toBeGreaterThan(10);
    const fine = await a.validate({ tool: 'Bash', input: { command: 'ls -la && git status' }, cwd: ws });
    expect(fine).toMatchObject({ decision: 'approved', rule: null });
    const again = await a.validate({ tool: 'Bash', input: { command: 'ls -la && git status' }, cwd: ws });
    expect(again.cached).toBe(true);
    const edit = await a.validate({
      tool: 'Write',
      input: { file_path: '/etc/hosts', content: 'x' },
      cwd: ws,
    });
    expect(edit.decision).toBe('blocked');
    const events = await b.admin().query({ stream: 'agent:runner', type: 'command.*' });
    expect(events.events.map((e) => e.type)).toEqual([
      'command.received',
      'command.validated',
      'command.received',
      'command.validated',
      'command.received',
      'command.validated',
      'command.received',
      'command.validated',
    ]);
    expect(events.events[1]!.data).toMatchObject({ decision: 'blocked', rule: 'recursive-delete-root' });
  });

  it('reloads .lighthouse/policy.json when it changes, and keeps the last good policy when it is invalid', async () => {
    const a = b.agent('policied');
    const cmd = { tool: 'Bash', input: { command: 'npm publish' }, cwd: ws };
    expect((await a.validate(cmd)).decision).toBe('approved');
    fs.mkdirSync(path.join(ws, '.lighthouse'), { recursive: true });
    const file = path.join(ws, '.lighthouse', 'policy.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        rules: [
          {
            id: 'no-publish',
            match: { command: '^npm publish' },
            decision: 'blocked',
            reason: 'CI publishes',
          },
        ],
      }),
    );
    const deadline = Date.now() + 5000;
    let r = await a.validate(cmd);
    while (r.decision !== 'blocked' && Date.now() < deadline) {
      await new Promise((x) => setTimeout(x, 100));
      r = await a.validate(cmd);
    }
    expect(r).toMatchObject({ decision: 'blocked', rule: 'no-publish' });
    fs.writeFileSync(file, JSON.stringify({ rules: [{ id: 'broken', decision: 'maybe' }] }));
    await new Promise((x) => setTimeout(x, 1000));
    expect((await a.validate(cmd)).rule).toBe('no-publish');
    expect(b.stderr()).toMatch(/policy file refused.*rules\[0\]/);
  });

  it('lets only admin validate for another agent, and refuses bad bodies naming the field', async () => {
    await expect(b.agent('x').validate({ tool: 'Bash', input: {}, agentId: 'y' })).rejects.toMatchObject({
      status: 403,
    });
    const r = await b.admin().validate({ tool: 'Bash', input: { command: 'echo hi' }, agentId: 'y' });
    expect(r.decision).toBe('approved');
    await expect(b.agent('x').validate({ tool: '', input: {} })).rejects.toThrow(/tool/);
  });

  it('records what a tool did', async () => {
    const a = b.agent('doer');
    const r = await a.recordExecuted({
      tool: 'Edit',
      input: { file_path: 'src/a.ts' },
      path: 'src/a.ts',
      contentHash: 'a'.repeat(64),
      success: true,
    });
    const e = await b.admin().query({ type: 'command.executed', agent: 'doer' });
    expect(e.events.map((x) => x.seq)).toEqual([r.seq]);
    expect(e.events[0]!.data).toMatchObject({ tool: 'Edit', path: 'src/a.ts', contentHash: 'a'.repeat(64) });
  });
});
