/**
 * The real Claude Code started by `lighthouse agent` against a real native bridge with its FUSE
 * view, driven by a scripted model: a native Bash write lands in the agent's shadow (cwd is the
 * shadow), an MCP tool answers (MCP is wired), and a native Write into the real project is blocked
 * by the PreToolUse hook (hooks are wired and confine native writes).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  claudeCodeBin,
  claudeCodeEnv,
  claudeCodeMissing,
  seedHome,
  type StreamEvent,
} from '../helpers/claude-code.js';
import { startNativeBridge, type NativeBridge } from '../helpers/native-bridge.js';
import { startScriptedAnthropic, type ScriptedAnthropic } from '../helpers/scripted-anthropic.js';
import { tempDir } from '../helpers/temp-dirs.js';

const LIGHTHOUSE_JS = path.resolve(__dirname, '../../dist/lighthouse.js');

let b: NativeBridge;
let server: ScriptedAnthropic | undefined;
beforeAll(async () => {
  const project = tempDir('lh-claude-agent-');
  fs.writeFileSync(path.join(project, 'README.md'), '# project\n');
  b = await startNativeBridge(project);
  expect(b.view, b.out()).not.toBeNull();
});
afterAll(async () => {
  await server?.close();
  await b?.stop();
});

describe('lighthouse agent starting the real Claude Code', () => {
  it('is installed', () => {
    expect(claudeCodeMissing()).toBeUndefined();
  });

  it('works in the shadow, has the Lighthouse MCP tools, and its hooks block a write to the project', async () => {
    const project = fs.realpathSync(b.project);
    const outside = path.join(project, 'b.txt');
    server = await startScriptedAnthropic([
      { toolCalls: [{ name: 'Bash', input: { command: 'echo x > a.txt', description: 'write a.txt' } }] },
      { toolCalls: [{ name: 'mcp__lighthouse__status', input: {} }] },
      { toolCalls: [{ name: 'Write', input: { file_path: outside, content: 'not here\n' } }] },
      { text: 'Done.' },
    ]);
    const home = tempDir('lh-claude-home-');
    const shadow = path.join(b.view!, 'shadows', 'bob');
    fs.mkdirSync(path.join(home, 'tmp'));
    seedHome(home, shadow);
    const proc = spawn(
      process.execPath,
      [
        ...[LIGHTHOUSE_JS, 'agent', 'bob', '--bridge', b.url, '--command', claudeCodeBin(), '--'],
        ...[
          '-p',
          'Write a.txt, check Lighthouse, write b.txt.',
          '--output-format',
          'stream-json',
          '--verbose',
        ],
        ...['--permission-mode', 'dontAsk', '--allowedTools', 'Bash,Write,mcp__lighthouse'],
      ],
      { cwd: project, env: claudeCodeEnv(home, server.url, {}), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), 120_000);
    const code = await new Promise((resolve) => proc.on('close', (c, s) => resolve(c ?? s)));
    clearTimeout(timer);
    const why = `exit ${String(code)}\nstderr: ${stderr.slice(-3000)}\nserver: ${server.errors.join('\n')}`;
    expect(code, why).toBe(0);
    expect(server.errors).toEqual([]);
    expect(server.remaining(), why).toBe(0);
    const events = stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as StreamEvent);
    const init = events.find((e) => e.type === 'system' && e.subtype === 'init');
    expect(init?.cwd).toBe(shadow);
    expect(init?.mcp_servers).toEqual([{ name: 'lighthouse', status: 'connected' }]);

    const [bash, status, write] = server.toolResults();
    expect(bash?.isError, bash?.text).toBe(false);
    // The Bash write went into bob's shadow: bob's change, the workspace untouched.
    const admin = b.admin();
    expect((await admin.readFile('a.txt', { agent: 'bob' })).toString('utf8')).toBe('x\n');
    expect(fs.existsSync(path.join(project, 'a.txt'))).toBe(false);
    // The MCP server answered as bob.
    expect(status?.isError, status?.text).toBe(false);
    expect(status?.text).toContain('bob');
    // The hook blocked the native write into the project, naming the tool to use instead.
    expect(write?.isError).toBe(true);
    expect(write?.text).toMatch(/native-write-outside-shadow/);
    expect(write?.text).toContain('mcp__lighthouse__write_file');
    expect(fs.existsSync(outside)).toBe(false);
    const { events: validated } = await admin.query({ agent: 'bob', type: 'command.validated' });
    expect(validated.map((e) => (e.data as { tool: string; decision: string }).decision)).toContain(
      'blocked',
    );
  });
});
