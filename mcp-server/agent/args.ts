import path from 'node:path';
import { ConfigError, INLINE_SECRET, parseAgentId, parseBridgeUrl, type Sourced } from '../config.js';

export const DEFAULT_AGENT_COMMAND = 'claude';
export const DEFAULT_WAIT_MS = 15_000;
const MAX_WAIT_MS = 600_000;

export const AGENT_HELP = `lighthouse agent <id>: starts a coding agent in its Lighthouse shadow.

Usage: lighthouse agent <id> [options] [-- more arguments for the agent command]

Finds the bridge and the agent's key, waits for the agent's shadow in the bridge's FUSE view
(<mount>/shadows/<id>), writes an MCP config and Claude Code hooks for the agent into a private
temporary folder, and runs the agent command there as its working directory, with
LIGHTHOUSE_SHADOW_DIR, LIGHTHOUSE_PROJECT_DIR, LIGHTHOUSE_AGENT_ID, LIGHTHOUSE_BRIDGE_URL and
LIGHTHOUSE_KEY_FILE set (and LIGHTHOUSE_MCP_CONFIG, LIGHTHOUSE_CLAUDE_SETTINGS naming the files).
Claude Code (a command named claude) also gets --settings and --mcp-config.

Options:
  --bridge URL      where the bridge listens (LIGHTHOUSE_BRIDGE_URL; default http://127.0.0.1:8765)
  --project DIR     the project the bridge serves (default: the current directory)
  --key-file PATH   the agent's key file; default <project>/.lighthouse/keys/<id>.key, made from
                    <project>/.lighthouse/secret when missing (as \`npm run key -- <id>\` does)
  --mount DIR       where the bridge's FUSE view is on this machine (default: where the bridge
                    says it mounted it)
  --command CMD     the agent command, split into words like a shell does (quotes, backslashes)
                    but run without one (LIGHTHOUSE_AGENT_COMMAND; default ${DEFAULT_AGENT_COMMAND})
  --no-shadow       run in the project itself, for when the shadow is not visible on this machine:
                    the agent's Lighthouse tools work in its shadow, the hook blocks native writes
  --wait-ms N       how long to wait for the shadow to appear (default ${DEFAULT_WAIT_MS})
  --print           print what would run (JSON) instead of running it; the files are kept
  --help, -h        print this and exit

The agent key is only ever passed as a file: never on a command line, never in the environment.
`;

export interface AgentArgs {
  agentId: string;
  bridgeUrl: string;
  /** The real project, absolute. */
  project: string;
  keyFile: string | undefined;
  mount: string | undefined;
  /** The agent command as words (program first). */
  command: string[];
  /** Words after `--`, appended to the command. */
  extra: string[];
  noShadow: boolean;
  waitMs: number;
  print: boolean;
}

export type AgentArgsResult = { kind: 'help' } | { kind: 'run'; args: AgentArgs };

const VALUED = ['bridge', 'project', 'key-file', 'mount', 'command', 'wait-ms'] as const;
type Valued = (typeof VALUED)[number];
const SWITCHES = ['print', 'no-shadow'] as const;

/** Shell metacharacters that mean the user expected a shell; we run the words without one. */
const SHELL_SYNTAX = /[|&;<>()$`\n]/;

/**
 * Splits a command line into words as a POSIX shell would for a simple command: single quotes,
 * double quotes (with \\ \" \$ \` escapes) and backslashes. Anything a shell would interpret beyond
 * that (pipes, redirections, variables) is refused, pointing at `sh -c`, rather than passed
 * on as literal text that would silently do something else.
 */
export function splitCommand(line: string, source = '--command'): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new ConfigError(`${source}: a single quote is not closed in ${line}`);
      word += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      inWord = true;
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && j + 1 < line.length && '\\"$`\n'.includes(line[j + 1]!)) j++;
        word += line[j];
      }
      if (j >= line.length) throw new ConfigError(`${source}: a double quote is not closed in ${line}`);
      i = j;
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new ConfigError(`${source}: it ends in a lone backslash`);
      word += line[++i];
      inWord = true;
    } else if (c === ' ' || c === '\t') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (SHELL_SYNTAX.test(c)) {
      throw new ConfigError(
        `${source}: "${c === '\n' ? '\\n' : c}" is shell syntax, and the command runs without a shell; ` +
          `quote it, or give the shell yourself: --command 'sh -c "..."'`,
      );
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  if (words.length === 0) throw new ConfigError(`${source} is empty; give the agent command, e.g. claude`);
  return words;
}

/** Reads `lighthouse agent` arguments (after the word `agent`) and the environment. */
export function parseAgentArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): AgentArgsResult {
  const flags = new Map<Valued, string>();
  const switches = new Set<string>();
  const positional: string[] = [];
  let extra: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      extra = argv.slice(i + 1);
      break;
    }
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    if (!arg.startsWith('--')) {
      if (/^[0-9a-fA-F]{32,}$/.test(arg)) {
        throw new ConfigError(
          'unexpected argument (it looks like a key; keys are only read from --key-file)',
        );
      }
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (name !== 'key-file' && INLINE_SECRET.test(name)) {
      throw new ConfigError(
        `--${name} is refused: a key on the command line is visible to other users in \`ps\`; ` +
          'pass --key-file PATH (a file only you can read) instead',
      );
    }
    if ((SWITCHES as readonly string[]).includes(name)) {
      if (eq > 0) throw new ConfigError(`--${name} takes no value`);
      switches.add(name);
      continue;
    }
    if (!(VALUED as readonly string[]).includes(name)) {
      throw new ConfigError(`unknown option --${name} (see lighthouse agent --help)`);
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) {
      throw new ConfigError(`--${name} needs a value (see lighthouse agent --help)`);
    }
    flags.set(name as Valued, value);
  }
  if (positional.length === 0) {
    throw new ConfigError('give the agent id: lighthouse agent <id> (e.g. lighthouse agent claude)');
  }
  if (positional.length > 1) {
    throw new ConfigError(
      `unexpected argument "${positional[1]}"; arguments for the agent command go after --`,
    );
  }
  const agentId = parseAgentId({ value: positional[0]!, source: 'the agent id' });
  const sourced = (name: Valued, envName?: string): Sourced | undefined => {
    const f = flags.get(name);
    if (f !== undefined) return { value: f, source: `--${name}` };
    const e = envName ? env[envName] : undefined;
    return e ? { value: e, source: envName! } : undefined;
  };
  const bridgeUrl = parseBridgeUrl(sourced('bridge', 'LIGHTHOUSE_BRIDGE_URL'));
  const command = sourced('command', 'LIGHTHOUSE_AGENT_COMMAND');
  const waitRaw = flags.get('wait-ms');
  const waitMs = waitRaw === undefined ? DEFAULT_WAIT_MS : Number(waitRaw);
  if (waitRaw !== undefined && (!/^\d+$/.test(waitRaw) || waitMs > MAX_WAIT_MS)) {
    throw new ConfigError(
      `--wait-ms must be a whole number of milliseconds up to ${MAX_WAIT_MS}, not "${waitRaw}"`,
    );
  }
  const abs = (p: string | undefined) => (p === undefined ? undefined : path.resolve(cwd, p));
  if (switches.has('no-shadow') && flags.has('mount')) {
    throw new ConfigError('--mount and --no-shadow contradict each other: give one');
  }
  return {
    kind: 'run',
    args: {
      agentId,
      bridgeUrl,
      project: abs(flags.get('project')) ?? path.resolve(cwd),
      keyFile: abs(flags.get('key-file')),
      mount: abs(flags.get('mount')),
      command: command ? splitCommand(command.value, command.source) : [DEFAULT_AGENT_COMMAND],
      extra,
      noShadow: switches.has('no-shadow'),
      waitMs,
      print: switches.has('print'),
    },
  };
}
