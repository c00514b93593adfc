/**
 * "Lighthouse: Open Agent Terminal" plans its terminal: `lighthouse agent` run by the editor's Node in
 * the agent's shadow when the view is visible here, else in the workspace with --no-shadow. The
 * planned process is then really run (with a plain Node), to check lighthouse.js takes the words.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  chooseView,
  planAgentTerminal,
  type AgentTerminalInput,
} from '../../../extension/model/agent-terminal.js';

const input: AgentTerminalInput = {
  agentId: 'claude',
  node: '/opt/code/code',
  electron: true,
  script: '/ext/dist/lighthouse.js',
  bridgeUrl: 'http://127.0.0.1:8766',
  keyFile: '/home/dev/.config/Code/User/globalStorage/lighthouse/keys/abc/claude.key',
  project: '/home/dev/project',
  view: '/run/user/1000/lighthouse/container-abc/project',
  viewReason: undefined,
};

describe('the agent terminal plan', () => {
  it("runs lighthouse agent in the agent's shadow, with the view, the key by path, Electron as Node", () => {
    const plan = planAgentTerminal(input);
    expect(plan.shadow).toBe('/run/user/1000/lighthouse/container-abc/project/shadows/claude');
    expect(plan.options).toEqual({
      name: 'Lighthouse: claude',
      cwd: '/run/user/1000/lighthouse/container-abc/project/shadows/claude',
      shellPath: '/opt/code/code',
      shellArgs: [
        ...['/ext/dist/lighthouse.js', 'agent', 'claude', '--bridge', 'http://127.0.0.1:8766'],
        ...['--project', '/home/dev/project', '--key-file', input.keyFile],
        ...['--mount', '/run/user/1000/lighthouse/container-abc/project'],
      ],
      env: { ELECTRON_RUN_AS_NODE: '1' },
    });
  });

  it('without a visible view: the reason, and the workspace with --no-shadow instead', () => {
    const plan = planAgentTerminal({
      ...input,
      view: undefined,
      viewReason: '/ is not a shared mount',
      electron: false,
    });
    expect(plan).toMatchObject({ shadow: null, reason: '/ is not a shared mount' });
    expect(plan.options.cwd).toBe('/home/dev/project');
    expect(plan.options.shellArgs.at(-1)).toBe('--no-shadow');
    expect(plan.options.shellArgs).not.toContain('--mount');
    expect(plan.options.env).toEqual({});
  });

  it('passes another agent command on', () => {
    const plan = planAgentTerminal({ ...input, command: 'codex --full-auto' });
    expect(plan.options.shellArgs.slice(7, 9)).toEqual(['--command', 'codex --full-auto']);
  });

  it("prefers the container's view bound here, then the bridge's own, if visible", () => {
    const seen = new Set(['/b']);
    expect(chooseView(['/a', '/b'], (p) => seen.has(p))).toBe('/b');
    expect(chooseView([undefined, null, '/a'], (p) => seen.has(p))).toBeUndefined();
  });

  it('plans words that the real lighthouse.js accepts', () => {
    const plan = planAgentTerminal({
      ...input,
      node: process.execPath,
      electron: false,
      script: path.resolve(__dirname, '../../../dist/lighthouse.js'),
      // Port 9: nothing answers, so lighthouse gets as far as the bridge and says so.
      bridgeUrl: 'http://127.0.0.1:9',
      keyFile: path.resolve(__dirname, 'no-such.key'),
    });
    const r = spawnSync(plan.options.shellPath, plan.options.shellArgs, {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(2);
    // Its arguments parsed; it stops at the key file given, which does not exist here.
    expect(r.stderr).toMatch(/--key-file .*no-such\.key: no such file/);
  });
});
