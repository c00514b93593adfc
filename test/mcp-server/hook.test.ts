import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridge, tempDir, type BridgeProcess } from '../helpers/bridge-process.js';
import { MCP_JS, writeAgentKey } from './mcp-process.js';

let b: BridgeProcess;
let keyFile: string;
let ws: string;
beforeAll(async () => {
  ws = path.join(tempDir(), 'ws');
  fs.mkdirSync(ws, { recursive: true });
  b = await startBridge({ workspace: ws });
  keyFile = writeAgentKey(b.secret, 'hooked');
});
afterAll(async () => {
  await b.stop();
});

const hook = (kind: string, input: unknown, env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [MCP_JS, 'hook', kind], {
    input: typeof input === 'string' ? input : JSON.stringify(input),
    encoding: 'utf8',
    env: {
      ...process.env,
      LIGHTHOUSE_BRIDGE_URL: b.url,
      LIGHTHOUSE_AGENT_ID: 'hooked',
      LIGHTHOUSE_KEY_FILE: keyFile,
      ...env,
    },
    timeout: 20_000,
  });

const preToolUse = (tool: string, toolInput: unknown) => ({
  session_id: 's1',
  transcript_path: '/tmp/t.jsonl',
  cwd: ws,
  hook_event_name: 'PreToolUse',
  tool_name: tool,
  tool_input: toolInput,
});

describe('lighthouse-mcp hook', () => {
  it('pre-tool-use allows a harmless command with exit 0 and blocks a dangerous one with exit 2 and the reason', () => {
    const ok = hook('pre-tool-use', preToolUse('Bash', { command: 'npm test' }));
    expect(ok.status).toBe(0);
    expect(ok.stderr).toBe('');
    const bad = hook('pre-tool-use', preToolUse('Bash', { command: "sudo bash -c 'rm -rf ~'" }));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^Lighthouse blocked this Bash call: .+\(rule recursive-delete-root\)/);
    const outside = hook('pre-tool-use', preToolUse('Write', { file_path: '/etc/passwd', content: 'x' }));
    expect(outside.status).toBe(2);
  });

  it('confines native writes to the shadow, and names the Lighthouse tool to use instead', () => {
    const shadow = path.join(tempDir(), 'shadow');
    fs.mkdirSync(shadow, { recursive: true });
    const inProject = preToolUse('Edit', {
      file_path: path.join(ws, 'src/a.ts'),
      old_string: 'a',
      new_string: 'b',
    });
    // No shadow on this machine (a container without a host-visible mount): every change to the
    // project goes through the Lighthouse tools.
    const none = hook('pre-tool-use', inProject);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/your shadow is not mounted on this machine/);
    expect(none.stderr).toContain('mcp__lighthouse__edit_file');
    expect(none.stderr).toContain('(rule native-write-outside-shadow)');
    const bash = hook('pre-tool-use', preToolUse('Bash', { command: 'echo x > notes.txt' }));
    expect(bash.status).toBe(2);
    expect(bash.stderr).toContain('mcp__lighthouse__write_file');
    // With a shadow: the project is refused with where to work instead; the shadow is the workspace.
    const withShadow = { LIGHTHOUSE_SHADOW_DIR: shadow };
    const elsewhere = hook('pre-tool-use', inProject, withShadow);
    expect(elsewhere.status).toBe(2);
    expect(elsewhere.stderr).toContain(`cd ${fs.realpathSync(shadow)}`);
    const inShadow = hook(
      'pre-tool-use',
      { ...preToolUse('Bash', { command: 'echo x > notes.txt && npm test' }), cwd: shadow },
      { ...withShadow, LIGHTHOUSE_PROJECT_DIR: ws },
    );
    expect(inShadow.status, inShadow.stderr).toBe(0);
    const backToWorkspace = hook(
      'pre-tool-use',
      { ...preToolUse('Bash', { command: `echo x > ${ws}/notes.txt` }), cwd: shadow },
      { ...withShadow, LIGHTHOUSE_PROJECT_DIR: ws },
    );
    expect(backToWorkspace.status).toBe(2);
    // Reads are never confined, and the confinement can be turned off.
    expect(hook('pre-tool-use', preToolUse('Read', { file_path: path.join(ws, 'src/a.ts') })).status).toBe(0);
    expect(hook('pre-tool-use', inProject, { LIGHTHOUSE_ISOLATION: 'off' }).status).toBe(0);
  });

  it('finds the shadow through the bridge when its FUSE view is mounted on this machine', async () => {
    const dir = tempDir();
    const fuseWs = path.join(dir, 'ws');
    fs.mkdirSync(fuseWs);
    const mnt = path.join(dir, 'mnt');
    const f = await startBridge({ workspace: fuseWs, fuseMount: mnt, secret: b.secret });
    try {
      expect((await f.admin().ready()).fuse.mounted).toBe(true);
      await f.agent('hooked').status(); // known to the bridge: its shadow is in the view
      const env = { LIGHTHOUSE_BRIDGE_URL: f.url };
      const write = (file_path: string) =>
        hook('pre-tool-use', { ...preToolUse('Write', { file_path, content: 'x' }), cwd: fuseWs }, env);
      const refused = write(path.join(fuseWs, 'a.txt'));
      expect(refused.status).toBe(2);
      expect(refused.stderr).toContain(`outside your shadow ${path.join(mnt, 'shadows', 'hooked')}`);
      expect(write(path.join(mnt, 'shadows', 'hooked', 'a.txt')).status).toBe(0);
      // Another agent's shadow, seen through the same mount, is not this agent's to write.
      await f.agent('other').status();
      const theirs = write(path.join(mnt, 'shadows', 'other', 'a.txt'));
      expect(theirs.status).toBe(2);
      expect(theirs.stderr).toContain('(rule native-write-outside-shadow)');
    } finally {
      await f.stop();
    }
  });

  it('turns an unanswered escalation into a question for the developer', () => {
    const r = hook('pre-tool-use', preToolUse('Bash', { command: 'rm -rf "$BUILD_DIR/"*' }), {
      LIGHTHOUSE_HOOK_REVIEW_WAIT_MS: '0',
    });
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as {
      hookSpecificOutput: { permissionDecision: string; permissionDecisionReason: string };
    };
    expect(out.hookSpecificOutput.permissionDecision).toBe('ask');
    expect(out.hookSpecificOutput.permissionDecisionReason).toMatch(/Lighthouse asks for a human decision/);
  });

  it('waits for a review answered meanwhile, and follows it', async () => {
    const { spawn } = await import('node:child_process');
    const run = (answer: 'approved' | 'blocked') =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const p = spawn(process.execPath, [MCP_JS, 'hook', 'pre-tool-use'], {
          env: {
            ...process.env,
            LIGHTHOUSE_BRIDGE_URL: b.url,
            LIGHTHOUSE_AGENT_ID: 'hooked',
            LIGHTHOUSE_KEY_FILE: keyFile,
          },
        });
        let stderr = '';
        p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        p.on('exit', (code) => resolve({ code, stderr }));
        p.stdin.end(JSON.stringify(preToolUse('Bash', { command: `rm -rf "$OUT_${answer}/"*` })));
        void (async () => {
          const admin = b.admin();
          for (let i = 0; i < 100; i++) {
            const pending = (await admin.reviews('pending-developer')).reviews.find((r) =>
              JSON.stringify(r.input).includes(`OUT_${answer}`),
            );
            if (pending) {
              await admin.answerReview(pending.id, {
                decision: answer,
                reason: `the developer said ${answer}`,
              });
              return;
            }
            await new Promise((r) => setTimeout(r, 100));
          }
        })();
      });
    const yes = await run('approved');
    expect(yes.code).toBe(0);
    expect(yes.stderr).toMatch(/approved by admin: the developer said approved/);
    const no = await run('blocked');
    expect(no.code).toBe(2);
    expect(no.stderr).toMatch(/review by admin\): the developer said blocked/);
  });

  it('records each decision as events in the bridge', async () => {
    const events = await b.admin().query({ stream: 'agent:hooked', type: 'command.validated' });
    expect(events.events.map((e) => (e.data as { decision: string }).decision)).toEqual(
      expect.arrayContaining(['approved', 'blocked', 'escalate']),
    );
  });

  it('post-tool-use records what an edit did, with the file hash', async () => {
    fs.writeFileSync(path.join(ws, 'edited.ts'), 'export {};\n');
    const r = hook('post-tool-use', {
      ...preToolUse('Write', { file_path: 'edited.ts', content: 'export {};\n' }),
      hook_event_name: 'PostToolUse',
      tool_response: { success: true },
    });
    expect(r.status).toBe(0);
    const e = await b.admin().query({ stream: 'agent:hooked', type: 'command.executed' });
    const { createHash } = await import('node:crypto');
    expect(e.events[0]!.data).toMatchObject({
      tool: 'Write',
      path: 'edited.ts',
      contentHash: createHash('sha256').update('export {};\n').digest('hex'),
    });
  });

  it('follows the fail-closed / fail-open setting when the bridge cannot be reached, and says which', () => {
    const env = { LIGHTHOUSE_BRIDGE_URL: 'http://127.0.0.1:9' };
    const closed = hook('pre-tool-use', preToolUse('Bash', { command: 'ls' }), env);
    expect(closed.status).toBe(2);
    expect(closed.stderr).toMatch(/unreachable.*blocking the tool call \(fail-closed/);
    const open = hook('pre-tool-use', preToolUse('Bash', { command: 'ls' }), {
      ...env,
      LIGHTHOUSE_HOOK_FAIL: 'open',
    });
    expect(open.status).toBe(0);
    expect(open.stderr).toMatch(/allowing the tool call \(LIGHTHOUSE_HOOK_FAIL=open\)/);
    const post = hook('post-tool-use', preToolUse('Bash', { command: 'ls' }), env);
    expect(post.status).toBe(0);
    expect(post.stderr).toMatch(/could not record/);
  });

  it('refuses input that is not hook JSON, and an unknown hook', () => {
    const r = hook('pre-tool-use', 'not json');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/not Claude Code's hook JSON/);
    expect(hook('mid-tool-use', {}).stderr).toMatch(/unknown hook "mid-tool-use"/);
  });
});
