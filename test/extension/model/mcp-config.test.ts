/**
 * What "Connect Claude Code" writes: the .mcp.json entry and the .claude/settings.json hooks,
 * merged into the user's files without losing anything of theirs, and the command lines it hands
 * out, which a shell must split back into exactly the intended words, whatever the paths contain.
 * The lines are run by a real `sh`, with a real node script standing in for lighthouse-mcp.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  claudeMcpAddCommand,
  ConfigFileError,
  hookCommand,
  mcpArgs,
  mcpServerEntry,
  mergeClaudeSettings,
  mergeMcpJson,
  type McpLaunch,
} from '../../../extension/model/mcp-config.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lh-ext-mcp-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const launch = (over: Partial<McpLaunch> = {}): McpLaunch => ({
  command: 'node',
  script: '/home/me/.vscode/extensions/lighthouse/dist/mcp-server.js',
  bridgeUrl: 'http://127.0.0.1:8765',
  agentId: 'claude',
  keyFile: '/home/me/.config/lighthouse/keys/claude.key',
  role: 'agent',
  ...over,
});

describe('mcpArgs and the .mcp.json entry', () => {
  it('names the bridge, the agent and its key file, and the role only when not a plain agent', () => {
    const l = launch();
    expect(mcpArgs(l)).toEqual([
      l.script,
      '--bridge',
      l.bridgeUrl,
      '--agent',
      'claude',
      '--key-file',
      l.keyFile,
    ]);
    expect(mcpArgs(launch({ role: 'expert' })).slice(-2)).toEqual(['--role', 'expert']);
    expect(mcpServerEntry(l)).toEqual({ type: 'stdio', command: 'node', args: mcpArgs(l) });
  });
});

describe('mergeMcpJson', () => {
  it('writes a new file with our server only', () => {
    for (const existing of [undefined, '', '  \n']) {
      const out = mergeMcpJson(existing, 'lighthouse', launch());
      expect(out.endsWith('}\n')).toBe(true);
      expect(JSON.parse(out)).toEqual({ mcpServers: { lighthouse: mcpServerEntry(launch()) } });
    }
  });

  it('keeps the other servers and keys, and replaces only our entry', () => {
    const existing = JSON.stringify({
      mcpServers: {
        github: { type: 'stdio', command: 'npx', args: ['-y', '@modelcontextprotocol/server-github'] },
        lighthouse: { type: 'stdio', command: 'node', args: ['old.js'] },
      },
      someToolSetting: { keep: true },
    });
    const out = JSON.parse(mergeMcpJson(existing, 'lighthouse', launch({ agentId: 'claude-2' })));
    expect(out).toEqual({
      mcpServers: {
        github: { type: 'stdio', command: 'npx', args: ['-y', '@modelcontextprotocol/server-github'] },
        lighthouse: mcpServerEntry(launch({ agentId: 'claude-2' })),
      },
      someToolSetting: { keep: true },
    });
  });

  it('refuses a file that is not valid JSON, and the file is left as it was', () => {
    const file = path.join(dir, 'broken.mcp.json');
    const broken = '{ "mcpServers": { "github": { "command": "npx", } }\n';
    fs.writeFileSync(file, broken);
    // The command computes the new text before writing (as here): a refusal writes nothing.
    const write = () =>
      fs.writeFileSync(file, mergeMcpJson(fs.readFileSync(file, 'utf8'), 'lighthouse', launch()));
    expect(write).toThrow(ConfigFileError);
    expect(write).toThrow(/^\.mcp\.json is not valid JSON \(.+\); fix it first, it was left as it is$/);
    expect(fs.readFileSync(file, 'utf8')).toBe(broken);
  });

  it('refuses JSON that is not an object, or whose mcpServers is not one', () => {
    expect(() => mergeMcpJson('[1, 2]', 'lighthouse', launch())).toThrow(
      '.mcp.json does not hold a JSON object; it was left as it is',
    );
    expect(() => mergeMcpJson('{"mcpServers": ["x"]}', 'lighthouse', launch())).toThrow(
      '.mcp.json: "mcpServers" is not an object; it was left as it is',
    );
  });
});

describe('mergeClaudeSettings', () => {
  const userPre = { matcher: 'Bash', hooks: [{ type: 'command', command: 'echo checking bash' }] };
  const userStop = { hooks: [{ type: 'command', command: 'notify-send done' }] };
  const hooksOf = (text: string) =>
    (JSON.parse(text) as { hooks: Record<string, { matcher?: string; hooks: { command: string }[] }[]> })
      .hooks;

  it('adds our pre- and post-tool-use hooks, keeping the user’s settings and hooks', () => {
    const existing = JSON.stringify({
      permissions: { allow: ['Bash(npm test)'] },
      hooks: { PreToolUse: [userPre], Stop: [userStop] },
    });
    const out = mergeClaudeSettings(existing, launch());
    expect(JSON.parse(out).permissions).toEqual({ allow: ['Bash(npm test)'] });
    expect(hooksOf(out)).toEqual({
      PreToolUse: [
        userPre,
        { matcher: '*', hooks: [{ type: 'command', command: hookCommand(launch(), 'pre-tool-use') }] },
      ],
      PostToolUse: [
        {
          matcher: 'Edit|Write|MultiEdit|Bash',
          hooks: [{ type: 'command', command: hookCommand(launch(), 'post-tool-use') }],
        },
      ],
      Stop: [userStop],
    });
  });

  it('replaces our older hooks instead of adding more, so connecting again changes nothing', () => {
    const first = mergeClaudeSettings(
      JSON.stringify({ hooks: { PreToolUse: [userPre] } }),
      launch({ bridgeUrl: 'http://127.0.0.1:9999' }),
    );
    const second = mergeClaudeSettings(first, launch());
    expect(hooksOf(second).PreToolUse).toEqual([
      userPre,
      { matcher: '*', hooks: [{ type: 'command', command: hookCommand(launch(), 'pre-tool-use') }] },
    ]);
    expect(hooksOf(second).PostToolUse).toHaveLength(1);
    expect(mergeClaudeSettings(second, launch())).toBe(second);
  });

  it('keeps a hook the user added to the same group as ours', () => {
    // A hook added by hand (or by a tool) to the group of the same matcher as ours.
    const ours = {
      type: 'command',
      command: hookCommand(launch({ bridgeUrl: 'http://127.0.0.1:9999' }), 'pre-tool-use'),
    };
    const theirs = { type: 'command', command: 'echo every tool' };
    const existing = JSON.stringify({ hooks: { PreToolUse: [{ matcher: '*', hooks: [ours, theirs] }] } });
    const commands = hooksOf(mergeClaudeSettings(existing, launch())).PreToolUse!.flatMap((g) =>
      g.hooks.map((h) => h.command),
    );
    expect(commands).toContain('echo every tool');
    expect(commands).toContain(hookCommand(launch(), 'pre-tool-use'));
    expect(commands).not.toContain(ours.command);
  });

  it('refuses invalid JSON and a "hooks" that is not an object', () => {
    expect(() => mergeClaudeSettings('{"hooks": ', launch())).toThrow(
      /^\.claude\/settings\.json is not valid JSON \(.+\); fix it first, it was left as it is$/,
    );
    expect(() => mergeClaudeSettings('{"hooks": "x"}', launch())).toThrow(
      '.claude/settings.json: "hooks" is not an object; it was left as it is',
    );
    expect(() => mergeClaudeSettings('{"hooks": []}', launch())).toThrow(
      '.claude/settings.json: "hooks" is not an object; it was left as it is',
    );
  });
});

describe('the command lines, through a real shell', () => {
  // Every character a shell treats specially, in the paths the lines carry.
  const weird = path.join(dir, `it's a "dir" with $HOME, \`backticks\`, \\ and *`);
  fs.mkdirSync(weird, { recursive: true });
  const script = path.join(weird, 'fake mcp-server.js');
  fs.writeFileSync(
    script,
    `const e = process.env;
process.stdout.write(JSON.stringify({ argv: process.argv.slice(2), env: {
  url: e.LIGHTHOUSE_BRIDGE_URL, agent: e.LIGHTHOUSE_AGENT_ID, key: e.LIGHTHOUSE_KEY_FILE } }));\n`,
  );
  // The node binary under a name with a space and a quote, as an install path may have.
  const node = path.join(weird, "no'de bin");
  fs.symlinkSync(process.execPath, node);
  const l = launch({
    command: node,
    script,
    agentId: 'claude.2',
    keyFile: path.join(weird, 'key file; rm -rf nothing'),
    role: 'expert',
  });
  const sh = (line: string) =>
    execFileSync('sh', ['-c', line], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: '/nonexistent' },
    });

  it('the hook line runs lighthouse-mcp’s hook with the agent’s identity in its environment', () => {
    for (const phase of ['pre-tool-use', 'post-tool-use'] as const) {
      expect(JSON.parse(sh(hookCommand(l, phase)))).toEqual({
        argv: ['hook', phase],
        env: { url: l.bridgeUrl, agent: 'claude.2', key: l.keyFile },
      });
    }
  });

  it('the `claude mcp add` line gives claude exactly the name, the command and its arguments', () => {
    const line = claudeMcpAddCommand("my server's", l);
    expect(line.startsWith('claude mcp add ')).toBe(true);
    // A shell function stands in for the claude CLI and prints the words it was given.
    const words = sh(`claude() { printf '%s\\0' "$@"; }; ${line}`).split('\0').slice(0, -1);
    expect(words).toEqual(['mcp', 'add', "my server's", '--', node, ...mcpArgs(l)]);
  });

  it('the .mcp.json entry starts the server with those arguments, no shell involved', () => {
    const entry = mcpServerEntry(l);
    const out = JSON.parse(execFileSync(entry.command, entry.args, { encoding: 'utf8' })) as {
      argv: string[];
    };
    expect(out.argv).toEqual(mcpArgs(l).slice(1));
  });

  it('leaves plain words unquoted, for a readable line', () => {
    expect(hookCommand(launch(), 'pre-tool-use')).toBe(
      'LIGHTHOUSE_BRIDGE_URL=http://127.0.0.1:8765 LIGHTHOUSE_AGENT_ID=claude ' +
        'LIGHTHOUSE_KEY_FILE=/home/me/.config/lighthouse/keys/claude.key node ' +
        '/home/me/.vscode/extensions/lighthouse/dist/mcp-server.js hook pre-tool-use',
    );
  });
});
