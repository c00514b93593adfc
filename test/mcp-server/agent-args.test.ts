/**
 * `lighthouse agent`: its arguments, the key it finds or makes, where it looks for the shadow and
 * what it would run, without a bridge (the bridge-backed runs are in agent-command.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deriveAgentKey, type Ready } from '../../bridge-image/protocol/index.js';
import {
  DEFAULT_WAIT_MS,
  parseAgentArgs,
  splitCommand,
  type AgentArgs,
} from '../../mcp-server/agent/args.js';
import { agentKey } from '../../mcp-server/agent/key.js';
import { isClaudeCode, planLaunch } from '../../mcp-server/agent/plan.js';
import { shadowRoot, waitForShadow } from '../../mcp-server/agent/shadow.js';
import { tempDir } from '../helpers/temp-dirs.js';

const LIGHTHOUSE_JS = path.resolve(__dirname, '../../dist/lighthouse.js');

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}): AgentArgs => {
  const r = parseAgentArgs(argv, env, '/home/dev/project');
  if (r.kind !== 'run') throw new Error('expected run');
  return r.args;
};

describe('lighthouse agent arguments', () => {
  it('takes the id and defaults: claude, the default bridge, the current directory', () => {
    expect(parse(['bob'])).toEqual({
      agentId: 'bob',
      bridgeUrl: 'http://127.0.0.1:8765',
      project: '/home/dev/project',
      keyFile: undefined,
      mount: undefined,
      command: ['claude'],
      extra: [],
      noShadow: false,
      waitMs: DEFAULT_WAIT_MS,
      print: false,
    });
  });

  it('reads options, the environment, and passes what follows -- to the agent command', () => {
    const a = parse(
      [
        'bob',
        '--project',
        '../other',
        '--key-file=k/bob.key',
        '--command',
        'sh -c "pwd; echo hi"',
        '--print',
      ],
      { LIGHTHOUSE_BRIDGE_URL: 'http://127.0.0.1:9999/' },
    );
    expect(a).toMatchObject({
      bridgeUrl: 'http://127.0.0.1:9999',
      project: '/home/dev/other',
      keyFile: '/home/dev/project/k/bob.key',
      command: ['sh', '-c', 'pwd; echo hi'],
      print: true,
    });
    expect(
      parse(['bob', '--bridge', 'http://127.0.0.1:1', '--', '-p', 'fix it', '--bridge', 'x']),
    ).toMatchObject({
      bridgeUrl: 'http://127.0.0.1:1',
      extra: ['-p', 'fix it', '--bridge', 'x'],
    });
    expect(parse(['bob'], { LIGHTHOUSE_AGENT_COMMAND: 'codex --yolo' }).command).toEqual(['codex', '--yolo']);
    expect(parse(['bob', '--mount', '/srv/view']).mount).toBe('/srv/view');
  });

  it('refuses bad input, naming what was wrong', () => {
    const err = (argv: string[]) => () => parseAgentArgs(argv, {}, '/p');
    expect(err([])).toThrow(/give the agent id/);
    expect(err(['../evil'])).toThrow(/the agent id "..\/evil"/);
    expect(err(['bob', 'alice'])).toThrow(
      /unexpected argument "alice"; arguments for the agent command go after --/,
    );
    expect(err(['bob', '--bogus'])).toThrow(/unknown option --bogus/);
    expect(err(['bob', '--bridge'])).toThrow(/--bridge needs a value/);
    expect(err(['bob', '--bridge', 'https://example.com'])).toThrow(/must be an http:\/\/ URL/);
    expect(err(['bob', '--wait-ms', 'soon'])).toThrow(/--wait-ms must be a whole number/);
    expect(err(['bob', '--no-shadow', '--mount', '/m'])).toThrow(/contradict/);
    expect(err(['bob', '--print=yes'])).toThrow(/--print takes no value/);
  });

  it('never takes a key on the command line, and does not echo one', () => {
    const key = randomBytes(32).toString('hex');
    for (const argv of [
      ['bob', `--key=${key}`],
      ['bob', '--agent-key', key],
      ['bob', key],
    ]) {
      let message = '';
      try {
        parseAgentArgs(argv, {}, '/p');
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(/key/);
      expect(message).not.toContain(key);
    }
  });

  it('splits --command like a shell, and refuses shell syntax it would not run', () => {
    expect(splitCommand(`a 'b c' "d \\"e\\" $" f\\ g ''`)).toEqual(['a', 'b c', 'd "e" $', 'f g', '']);
    expect(() => splitCommand("sh -c 'unclosed")).toThrow(/single quote is not closed/);
    expect(() => splitCommand('claude | tee log')).toThrow(/"\|" is shell syntax.*sh -c/);
    expect(() => splitCommand('echo $HOME')).toThrow(/"\$" is shell syntax/);
    expect(() => splitCommand('   ')).toThrow(/--command is empty/);
  });
});

describe("the agent's key", () => {
  it('is made from the project secret when missing, mode 0600, and kept when there', () => {
    const project = tempDir();
    const secret = randomBytes(32);
    fs.mkdirSync(path.join(project, '.lighthouse'));
    fs.writeFileSync(path.join(project, '.lighthouse', 'secret'), secret.toString('hex'), { mode: 0o600 });
    const made = agentKey(project, 'bob', undefined);
    expect(made.file).toBe(path.join(project, '.lighthouse', 'keys', 'bob.key'));
    expect(made.made).toBe(true);
    expect(fs.readFileSync(made.file, 'utf8').trim()).toBe(deriveAgentKey(secret, 'bob').toString('hex'));
    expect(fs.statSync(made.file).mode & 0o777).toBe(0o600);
    expect(agentKey(project, 'bob', undefined)).toMatchObject({
      file: made.file,
      made: false,
      master: secret,
    });
    // A key file given is used as it is, and the project's secret is not offered for signing with.
    expect(agentKey(project, 'alice', made.file)).toEqual({
      file: made.file,
      made: false,
      master: undefined,
    });
  });

  it('says what to do when there is neither a key nor a secret, and checks a given key file', () => {
    const project = tempDir();
    expect(() => agentKey(project, 'bob', undefined)).toThrow(
      /no key for agent "bob": .*bob\.key does not exist.*npm run key -- bob.*--key-file/,
    );
    expect(() => agentKey(project, 'bob', path.join(project, 'nope.key'))).toThrow(
      /--key-file .*nope\.key: no such file/,
    );
    fs.writeFileSync(path.join(project, 'short.key'), 'abcd');
    expect(() => agentKey(project, 'bob', path.join(project, 'short.key'))).toThrow(/64 hex characters/);
  });
});

describe('where the shadow is', () => {
  const ready = (fuse: Partial<Ready['fuse']>): Ready => ({
    ready: true,
    store: { open: true, schemaVersion: 1, migrations: 'done' },
    fuse: { enabled: true, mounted: true, reason: null, mountPoint: '/tmp/view', ...fuse },
    draining: false,
  });

  it("is the bridge's mount point, or the one given for this machine", () => {
    expect(shadowRoot(ready({}), undefined)).toBe('/tmp/view');
    expect(shadowRoot(ready({}), '/host/view')).toBe('/host/view');
  });

  it('is refused, saying to run with the MCP tools only, without a mounted view', () => {
    expect(() => shadowRoot(ready({ enabled: false, mounted: false, mountPoint: null }), undefined)).toThrow(
      /without its FUSE view.*--no-shadow.*the hook blocks native writes/,
    );
    expect(() => shadowRoot(ready({ mounted: false, reason: 'no /dev/fuse' }), undefined)).toThrow(
      /not mounted \(no \/dev\/fuse\).*--no-shadow/,
    );
  });

  it('is said to be invisible here at once when the view is not on this machine', async () => {
    await expect(waitForShadow('/mnt/lighthouse/project', 'bob', 60_000)).rejects.toThrow(
      /not visible on this machine at \/mnt\/lighthouse\/project.*--mount.*--no-shadow/,
    );
  });

  it('times out, saying the bridge does not know the agent, when its folder does not appear', async () => {
    const root = tempDir();
    fs.mkdirSync(path.join(root, 'shadows'));
    await expect(waitForShadow(root, 'bob', 0)).rejects.toThrow(
      /does not know agent "bob".*npm run key -- bob/,
    );
    fs.mkdirSync(path.join(root, 'shadows', 'bob'));
    await expect(waitForShadow(root, 'bob', 0)).resolves.toBe(path.join(root, 'shadows', 'bob'));
  });
});

describe('what it runs', () => {
  const input = (command: string[], shadow: string | null, extra: string[] = []) => ({
    args: { ...parse(['bob']), command, extra },
    keyFile: '/home/dev/project/.lighthouse/keys/bob.key',
    shadow,
    node: '/usr/bin/node',
    mcpScript: '/opt/lh/mcp-server.js',
    configDir: '/tmp/lh-x',
  });

  it('gives Claude Code its hooks and MCP config by file, the key only as a path', () => {
    const plan = planLaunch(input(['claude'], '/view/shadows/bob', ['-p', 'fix it']));
    expect(plan.command).toBe('claude');
    expect(plan.args).toEqual([
      '-p',
      'fix it',
      '--settings',
      '/tmp/lh-x/settings.json',
      '--mcp-config',
      '/tmp/lh-x/mcp.json',
    ]);
    expect(plan.cwd).toBe('/view/shadows/bob');
    expect(plan.env).toMatchObject({
      LIGHTHOUSE_SHADOW_DIR: '/view/shadows/bob',
      LIGHTHOUSE_PROJECT_DIR: '/home/dev/project',
      LIGHTHOUSE_AGENT_ID: 'bob',
      LIGHTHOUSE_BRIDGE_URL: 'http://127.0.0.1:8765',
      LIGHTHOUSE_KEY_FILE: '/home/dev/project/.lighthouse/keys/bob.key',
    });
    const mcp = JSON.parse(plan.files['/tmp/lh-x/mcp.json']!) as {
      mcpServers: Record<string, { args: string[] }>;
    };
    expect(mcp.mcpServers.lighthouse?.args).toEqual([
      '/opt/lh/mcp-server.js',
      ...[
        '--bridge',
        'http://127.0.0.1:8765',
        '--agent',
        'bob',
        '--key-file',
        '/home/dev/project/.lighthouse/keys/bob.key',
      ],
    ]);
    const settings = JSON.parse(plan.files['/tmp/lh-x/settings.json']!) as {
      hooks: Record<string, { hooks: { command: string }[] }[]>;
    };
    expect(settings.hooks.PreToolUse?.[0]?.hooks[0]?.command).toMatch(
      /LIGHTHOUSE_AGENT_ID=bob .*\/usr\/bin\/node \/opt\/lh\/mcp-server\.js hook pre-tool-use$/,
    );
    expect(settings.hooks.PostToolUse?.[0]?.hooks[0]?.command).toMatch(/hook post-tool-use$/);
  });

  it('runs another command as it is, and in the project without a shadow (no shadow variable)', () => {
    const plan = planLaunch(input(['sh', '-c', 'pwd'], null));
    expect(plan).toMatchObject({
      command: 'sh',
      args: ['-c', 'pwd'],
      cwd: '/home/dev/project',
      claude: false,
    });
    expect('LIGHTHOUSE_SHADOW_DIR' in plan.env && plan.env.LIGHTHOUSE_SHADOW_DIR).toBe(undefined);
    expect(plan.env.LIGHTHOUSE_MCP_CONFIG).toBe('/tmp/lh-x/mcp.json');
    expect(isClaudeCode('/usr/local/bin/claude')).toBe(true);
    expect(isClaudeCode('claude-wrapper')).toBe(false);
  });
});

describe('the lighthouse command', () => {
  const run = (args: string[], cwd = tempDir()) =>
    spawnSync(process.execPath, [LIGHTHOUSE_JS, ...args], {
      cwd,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      timeout: 20_000,
    });

  it('exits 2 with a clear message on bad input, and when no bridge answers', () => {
    expect(run(['frobnicate'])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/unknown command "frobnicate"/),
    });
    expect(run(['agent', '--help'])).toMatchObject({
      status: 0,
      stdout: expect.stringContaining('lighthouse agent <id>'),
    });
    const project = tempDir();
    fs.mkdirSync(path.join(project, '.lighthouse'));
    fs.writeFileSync(path.join(project, '.lighthouse', 'secret'), randomBytes(32).toString('hex'), {
      mode: 0o600,
    });
    // Port 9 on loopback: nothing listens there.
    const r = run(['agent', 'bob', '--bridge', 'http://127.0.0.1:9'], project);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no bridge answers at http:\/\/127\.0\.0\.1:9 .*npm start/);
  });
});
