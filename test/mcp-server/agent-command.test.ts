/**
 * `lighthouse agent` against a real native bridge (`npm start`) with its FUSE view mounted: the
 * agent command runs in the agent's shadow, and what it writes there is the agent's change, not
 * the developer's workspace.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveAgentKey } from '../../bridge-image/protocol/index.js';
import { startNativeBridge, type NativeBridge } from '../helpers/native-bridge.js';
import { tempDir } from '../helpers/temp-dirs.js';

const LIGHTHOUSE_JS = path.resolve(__dirname, '../../dist/lighthouse.js');

let b: NativeBridge;
let project: string;
beforeAll(async () => {
  project = tempDir('lh-agent-proj-');
  fs.writeFileSync(path.join(project, 'README.md'), '# project\n');
  b = await startNativeBridge(project);
  // Root can mount FUSE on these machines: a bridge without its view would make these tests moot.
  expect(b.view, b.out()).not.toBeNull();
});
afterAll(async () => {
  await b?.stop();
});

const lighthouse = (args: string[], cwd = project) =>
  spawnSync(process.execPath, [LIGHTHOUSE_JS, 'agent', ...args, '--bridge', b.url], {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tempDir(), TMPDIR: tempDir() },
    timeout: 30_000,
  });

describe('lighthouse agent with a native bridge', () => {
  it("runs the command in bob's shadow: its file is bob's change, the workspace is untouched", async () => {
    const keyFile = path.join(project, '.lighthouse', 'keys', 'bob.key');
    expect(fs.existsSync(keyFile)).toBe(false);
    const r = lighthouse(['bob', '--command', 'sh -c "pwd; echo hi > made-by-agent.txt"']);
    expect(r.status, r.stderr).toBe(0);
    const shadow = path.join(b.view!, 'shadows', 'bob');
    expect(r.stdout.trim()).toBe(shadow);
    // bob had no key: it was made from the project's secret, 0600, and the bridge told of it.
    expect(r.stderr).toContain(`wrote ${keyFile}`);
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(keyFile, 'utf8').trim()).toBe(deriveAgentKey(b.secret, 'bob').toString('hex'));

    const admin = b.admin();
    const { changes } = await admin.changes({ agent: 'bob' });
    expect(changes.map((c) => [c.path, c.status])).toEqual([['made-by-agent.txt', 'added']]);
    expect((await admin.readFile('made-by-agent.txt', { agent: 'bob' })).toString('utf8')).toBe('hi\n');
    expect(fs.existsSync(path.join(project, 'made-by-agent.txt'))).toBe(false);
  });

  it('gives the command the agent identity, config files and project in its environment', () => {
    const r = lighthouse([
      'carol',
      '--command',
      'sh -c \'echo "$LIGHTHOUSE_AGENT_ID|$LIGHTHOUSE_SHADOW_DIR|$LIGHTHOUSE_PROJECT_DIR|$LIGHTHOUSE_KEY_FILE"; cat "$LIGHTHOUSE_MCP_CONFIG"; stat -c %a "$(dirname "$LIGHTHOUSE_MCP_CONFIG")" "$LIGHTHOUSE_MCP_CONFIG"; echo "$LIGHTHOUSE_MCP_CONFIG" >&2\'',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const [ids, ...rest] = r.stdout.split('\n');
    expect(ids).toBe(
      [
        'carol',
        path.join(b.view!, 'shadows', 'carol'),
        project,
        path.join(project, '.lighthouse', 'keys', 'carol.key'),
      ].join('|'),
    );
    const text = rest.join('\n');
    expect(text).toContain('"--key-file"');
    // The key itself is in no file we wrote and no variable we set: only its path.
    expect(text).not.toContain(deriveAgentKey(b.secret, 'carol').toString('hex'));
    expect(text).toMatch(/\n700\n600\n/);
    // The private folder goes when the agent ends.
    expect(fs.existsSync(path.dirname(r.stderr.trim().split('\n').at(-1)!))).toBe(false);
  });

  it("passes the command's exit code through", () => {
    expect(lighthouse(['bob', '--command', "sh -c 'exit 7'"]).status).toBe(7);
    const missing = lighthouse(['bob', '--command', 'no-such-agent-command']);
    expect(missing.status).toBe(127);
    expect(missing.stderr).toMatch(/no-such-agent-command: command not found/);
  });

  it('passes SIGTERM on to the agent and leaves with its exit code', async () => {
    const proc = spawn(
      process.execPath,
      [
        LIGHTHOUSE_JS,
        'agent',
        'bob',
        '--bridge',
        b.url,
        '--command',
        `sh -c 'trap "echo got-term; exit 3" TERM; echo started; while true; do sleep 0.05; done'`,
      ],
      { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    await new Promise<void>((resolve) =>
      proc.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('started')) resolve();
      }),
    );
    proc.kill('SIGTERM');
    // close, not exit: the output may still be on its way when the process has exited.
    const code = await new Promise((resolve) => proc.on('close', (c, s) => resolve(c ?? s)));
    expect(out).toContain('got-term');
    expect(code).toBe(3);
  });

  it('--no-shadow runs in the project; --print tells what would run', () => {
    const plain = lighthouse(['bob', '--no-shadow', '--command', 'pwd']);
    expect(plain.stdout.trim()).toBe(project);
    const printed = lighthouse(['bob', '--print']);
    expect(printed.status, printed.stderr).toBe(0);
    const plan = JSON.parse(printed.stdout) as { command: string; args: string[]; cwd: string };
    expect(plan.command).toBe('claude');
    expect(plan.cwd).toBe(path.join(b.view!, 'shadows', 'bob'));
    expect(plan.args.slice(-4, -3)).toEqual(['--settings']);
  });

  it('says clearly when the view is not on this machine, and what to do', () => {
    const r = lighthouse(['bob', '--mount', '/mnt/lighthouse-nowhere/project', '--command', 'pwd']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /not visible on this machine at \/mnt\/lighthouse-nowhere\/project.*--no-shadow/,
    );
    expect(r.stdout).toBe('');
  });
});
