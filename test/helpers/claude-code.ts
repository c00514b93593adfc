import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { RecordedRequest, ScriptedAnthropic } from './scripted-anthropic.js';
import { tempDir } from './temp-dirs.js';

/**
 * Runs the real Claude Code CLI non-interactively (`claude -p`) against a scripted Anthropic
 * endpoint (scripted-anthropic.ts), in a HOME of its own so no user configuration, credentials or
 * session history leak in or out. The package is the repository's own devDependency (pinned in
 * package.json); LIGHTHOUSE_CLAUDE_CODE_DIR names another install prefix, to try another version
 * (`npm install --prefix <dir> @anthropic-ai/claude-code@<version>`).
 */

const REPO_ROOT = path.resolve(__dirname, '../..');

/** Node 24 as test/e2e/setup.sh installs it, for a Claude Code whose engines need a newer Node than ours. */
const NODE_24 = '/var/cache/lighthouse-ci/e2e/node-24.21.0/bin/node';

/** The prefixes (directories holding node_modules/) where Claude Code may be installed. */
export function claudeCodeDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  return env.LIGHTHOUSE_CLAUDE_CODE_DIR ? [env.LIGHTHOUSE_CLAUDE_CODE_DIR] : [REPO_ROOT];
}

const packageDir = (prefix: string) => path.join(prefix, 'node_modules', '@anthropic-ai', 'claude-code');

/**
 * Why the Claude Code tests must skip: the package is not installed in any of claudeCodeDirs().
 * Undefined when it is; an install that is there but cannot run fails the tests instead
 * (findClaudeCode throws), so a broken install is not mistaken for an absent one.
 */
export function claudeCodeMissing(): string | undefined {
  const dirs = claudeCodeDirs();
  if (dirs.some((d) => fs.existsSync(path.join(packageDir(d), 'package.json')))) return undefined;
  return (
    `@anthropic-ai/claude-code is not installed in ${dirs.join(' or ')} (LIGHTHOUSE_CLAUDE_CODE_DIR); ` +
    'it is a devDependency of this repository: run npm install'
  );
}

export interface ClaudeCodeInstall {
  version: string;
  /** The program to start and the arguments before Claude Code's own. */
  command: string;
  prefixArgs: string[];
}

interface PackageJson {
  version: string;
  bin?: string | Record<string, string>;
  engines?: { node?: string };
}

/** The lowest Node major an `engines.node` range like ">=18.0.0" asks for (0 when it says nothing). */
function minNodeMajor(range: string | undefined): number {
  const m = /(\d+)/.exec(range ?? '');
  return m ? Number(m[1]) : 0;
}

/**
 * How to start the installed Claude Code. A cli.js bundle (up to 2.1.112) runs under this Node, or
 * Node 24 when its engines ask for more; a native binary (later versions, put in place by their
 * postinstall) runs as it is. Throws, saying what is wrong, when the install cannot run.
 */
export function findClaudeCode(): ClaudeCodeInstall {
  const prefix = claudeCodeDirs().find((d) => fs.existsSync(path.join(packageDir(d), 'package.json')));
  if (!prefix) throw new Error(claudeCodeMissing());
  const pkgDir = packageDir(prefix);
  const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as PackageJson;
  const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.claude;
  if (!bin) throw new Error(`${pkgDir}/package.json names no claude binary`);
  const entry = path.join(pkgDir, bin);
  if (!fs.existsSync(entry))
    throw new Error(`${entry} is missing (an install whose postinstall did not run?)`);
  if (!entry.endsWith('.js')) return { version: pkg.version, command: entry, prefixArgs: [] };
  const need = minNodeMajor(pkg.engines?.node);
  const ours = Number(process.versions.node.split('.')[0]);
  if (ours >= need) return { version: pkg.version, command: process.execPath, prefixArgs: [entry] };
  if (fs.existsSync(NODE_24)) return { version: pkg.version, command: NODE_24, prefixArgs: [entry] };
  throw new Error(
    `Claude Code ${pkg.version} needs Node ${pkg.engines?.node}; this is ${process.version} and ${NODE_24} is not installed (test/e2e/setup.sh)`,
  );
}

/**
 * An executable named `claude` that starts the installed Claude Code, for programs that recognise
 * Claude Code by its command name (`lighthouse agent`). A cli.js bundle runs through its
 * `#!/usr/bin/env node` line: put the Node to use first on PATH (claudeCodeEnv does).
 */
export function claudeCodeBin(): string {
  const install = findClaudeCode();
  const entry = install.prefixArgs[0] ?? install.command;
  const bin = path.join(tempDir('lh-claude-bin-'), 'claude');
  fs.symlinkSync(entry, bin);
  return bin;
}

/** One line of `--output-format stream-json`: system init, assistant and user messages, the result. */
export interface StreamEvent {
  type: string;
  subtype?: string;
  [key: string]: unknown;
}

/** The closing `result` event (also the whole output of `--output-format json`). */
export interface ResultEvent extends StreamEvent {
  type: 'result';
  is_error: boolean;
  result?: string;
  num_turns: number;
  permission_denials: unknown[];
}

export interface McpServerConfig {
  command: string;
  args?: string[];
  env?: Record<string, string>;
}

export interface RunOptions {
  prompt: string;
  cwd: string;
  server: ScriptedAnthropic;
  /** MCP servers by name, written to a file and given with --mcp-config (and --strict-mcp-config). */
  mcpServers?: Record<string, McpServerConfig>;
  /** Settings (hooks, permissions, env), written to a file and given with --settings. */
  settings?: Record<string, unknown>;
  /**
   * Tools Claude Code may use without asking. The run uses permission mode dontAsk (anything else
   * is denied, nothing waits for a human): --dangerously-skip-permissions is refused as root.
   * Default: Bash, Read, Edit, Write, Glob, Grep and every tool of each MCP server given.
   */
  allowedTools?: string[];
  /** More arguments for Claude Code, after the others. */
  args?: string[];
  /** More environment; the run starts from a clean one (PATH and the variables below only). */
  env?: Record<string, string>;
  /** Killed (SIGKILL) after this long; default 120 s. */
  timeoutMs?: number;
  /** The HOME to use, e.g. to run a second session with the first one's history; default a new one. */
  home?: string;
}

export interface ClaudeCodeRun {
  /** Exit code, or the signal's name. */
  code: number | string;
  /** Every stream-json line, parsed. */
  events: StreamEvent[];
  result: ResultEvent | undefined;
  stdout: string;
  stderr: string;
  /** What the scripted endpoint received during this run. */
  requests: RecordedRequest[];
  home: string;
  durationMs: number;
  timedOut: boolean;
}

/**
 * A HOME that Claude Code starts in without onboarding or a trust question for `cwd` (print mode
 * asks neither, but a run with other flags might); what an earlier run left in it is kept.
 */
export function seedHome(home: string, cwd: string): void {
  fs.mkdirSync(path.join(home, '.claude'), { recursive: true });
  const file = path.join(home, '.claude.json');
  const config = (fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {}) as {
    projects?: Record<string, Record<string, unknown>>;
  };
  const projects = config.projects ?? {};
  const seeded = {
    ...config,
    hasCompletedOnboarding: true,
    lastOnboardingVersion: '99.0.0',
    autoUpdates: false,
    projects: {
      ...projects,
      [cwd]: { ...projects[cwd], hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true },
    },
  };
  fs.writeFileSync(file, JSON.stringify(seeded, null, 2));
}

/**
 * The environment of a run: nothing of the caller's but PATH, so no ANTHROPIC_*, CLAUDE* or proxy
 * variable leaks in; Claude Code talks to the scripted endpoint at `baseUrl`. Also for tests that
 * start Claude Code through another program (`lighthouse agent`).
 */
export function claudeCodeEnv(
  home: string,
  baseUrl: string,
  extra: Record<string, string>,
): Record<string, string> {
  const nodeDir = path.dirname(process.execPath);
  return {
    // The node running the tests first, so hook and MCP commands that say `node` get this one.
    PATH: [nodeDir, process.env.PATH ?? '/usr/bin:/bin'].join(path.delimiter),
    HOME: home,
    USER: process.env.USER ?? 'root',
    SHELL: '/bin/bash',
    LANG: 'C.UTF-8',
    TMPDIR: path.join(home, 'tmp'),
    XDG_CONFIG_HOME: path.join(home, '.config'),
    ANTHROPIC_BASE_URL: baseUrl,
    ANTHROPIC_API_KEY: 'sk-ant-scripted-dummy',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_BUG_COMMAND: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    CLAUDE_CODE_DISABLE_TERMINAL_TITLE: '1',
    CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY: '1',
    // It would fetch the plugin marketplace from the internet.
    CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL: '1',
    NO_COLOR: '1',
    ...extra,
  };
}

function parseLines(stdout: string): StreamEvent[] {
  const events: StreamEvent[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    try {
      events.push(JSON.parse(line) as StreamEvent);
    } catch {
      // a line cut by a kill; the rest still tells what happened
    }
  }
  return events;
}

/** Runs `claude -p <prompt> --output-format stream-json --verbose` and waits for it to exit. */
export async function runClaudeCode(opts: RunOptions): Promise<ClaudeCodeRun> {
  const install = findClaudeCode();
  const home = opts.home ?? tempDir('lh-claude-home-');
  seedHome(home, fs.realpathSync(opts.cwd));
  fs.mkdirSync(path.join(home, 'tmp'), { recursive: true });
  const args = [
    '-p',
    opts.prompt,
    '--output-format',
    'stream-json',
    '--verbose',
    '--permission-mode',
    'dontAsk',
  ];
  const mcpNames = Object.keys(opts.mcpServers ?? {});
  if (opts.mcpServers) {
    const file = path.join(home, 'mcp-config.json');
    fs.writeFileSync(file, JSON.stringify({ mcpServers: opts.mcpServers }, null, 2));
    args.push('--mcp-config', file, '--strict-mcp-config');
  }
  if (opts.settings) {
    const file = path.join(home, 'settings.json');
    fs.writeFileSync(file, JSON.stringify(opts.settings, null, 2));
    args.push('--settings', file);
  }
  const allowed = opts.allowedTools ?? [
    'Bash',
    'Read',
    'Edit',
    'Write',
    'Glob',
    'Grep',
    ...mcpNames.map((n) => `mcp__${n}`),
  ];
  args.push('--allowedTools', allowed.join(','));
  args.push(...(opts.args ?? []));

  const seen = opts.server.requests.length;
  const t0 = Date.now();
  const proc = spawn(install.command, [...install.prefixArgs, ...args], {
    cwd: opts.cwd,
    env: claudeCodeEnv(home, opts.server.url, opts.env ?? {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill('SIGKILL');
  }, opts.timeoutMs ?? 120_000);
  const code = await new Promise<number | string>((resolve) => {
    proc.on('error', (e) => {
      stderr += `spawn failed: ${e.message}\n`;
      resolve('spawn-error');
    });
    proc.on('close', (c, signal) => resolve(c ?? signal ?? 'unknown'));
  });
  clearTimeout(timer);
  const events = parseLines(stdout);
  return {
    code,
    events,
    result: events.findLast((e): e is ResultEvent => e.type === 'result'),
    stdout,
    stderr,
    requests: opts.server.requests.slice(seen),
    home,
    durationMs: Date.now() - t0,
    timedOut,
  };
}

/** The tool calls Claude Code reports having made (assistant tool_use blocks in its stream), in order. */
export function toolUses(run: ClaudeCodeRun): { id: string; name: string; input: unknown }[] {
  return run.events
    .filter((e) => e.type === 'assistant')
    .flatMap((e) => {
      const content = (
        e.message as { content?: { type: string; id?: string; name?: string; input?: unknown }[] }
      )?.content;
      return (content ?? [])
        .filter((b) => b.type === 'tool_use')
        .map((b) => ({ id: String(b.id), name: String(b.name), input: b.input }));
    });
}

/** A short account of a run for failure messages: exit, result, stderr, the server's errors. */
export function describeRun(run: ClaudeCodeRun, server?: ScriptedAnthropic): string {
  return [
    `exit ${run.code}${run.timedOut ? ' (killed after the timeout)' : ''} in ${run.durationMs} ms`,
    `result: ${JSON.stringify(run.result ?? null)?.slice(0, 2000)}`,
    `stderr: ${run.stderr.slice(-4000)}`,
    ...(server ? [`server errors: ${server.errors.join('\n') || 'none'}`] : []),
    `requests: ${run.requests.map((r) => `${r.kind} ${r.method} ${r.path} ${r.status}`).join(', ')}`,
  ].join('\n');
}
