import fs from 'node:fs';
import path from 'node:path';
import { AgentId, parseKeyMaterial } from '../bridge-image/protocol/index.js';

/** The roles an MCP server may take; admin belongs to the VS Code extension alone. */
export const MCP_ROLES = ['agent', 'expert'] as const;
export type McpRole = (typeof MCP_ROLES)[number];

export const DEFAULT_BRIDGE_URL = 'http://127.0.0.1:8765';
export const DEFAULT_TIMEOUT_MS = 15_000;
/** The one path the HTTP transport answers on. */
export const HTTP_PATH = '/mcp';
const MIN_TIMEOUT_MS = 100;
const MAX_TIMEOUT_MS = 600_000;

export interface McpServerConfig {
  bridgeUrl: string;
  agentId: string;
  /** The agent key, read from keyFile; never taken from the command line. */
  key: Buffer;
  keyFile: string;
  role: McpRole;
  timeoutMs: number;
  /** Serve MCP over Streamable HTTP on 127.0.0.1 at this port (0: any free port) instead of stdio. */
  httpPort: number | undefined;
  /** Things worth telling the user that do not stop the server (e.g. a key file others can read). */
  warnings: string[];
}

export type ConfigResult = { kind: 'help'; text: string } | { kind: 'run'; config: McpServerConfig };

/** Bad input from the user; main prints the message and exits with code 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const HELP = `lighthouse-mcp: the Lighthouse MCP server for one agent, over stdio or HTTP.

Usage: lighthouse-mcp --agent ID --key-file PATH [options]

Options (each also read from the environment variable shown; the option wins):
  --bridge URL       where the bridge listens (LIGHTHOUSE_BRIDGE_URL; default ${DEFAULT_BRIDGE_URL})
  --agent ID         this agent's id, 1-64 letters, digits, "_", "." or "-" (LIGHTHOUSE_AGENT_ID; required)
  --key-file PATH    file holding this agent's key as 64 hex characters, mode 0600
                     (LIGHTHOUSE_KEY_FILE; required). Make one with: npm run key -- <agent-id>
  --role ROLE        agent or expert; an expert answers escalated questions for the
                     capabilities it registers (LIGHTHOUSE_ROLE; default agent)
  --timeout-ms N     give up on a bridge call after N milliseconds, ${MIN_TIMEOUT_MS}-${MAX_TIMEOUT_MS}
                     (LIGHTHOUSE_TIMEOUT_MS; default ${DEFAULT_TIMEOUT_MS})
  --http PORT        serve MCP over Streamable HTTP at http://127.0.0.1:PORT${HTTP_PATH} instead of
                     stdio; 0 picks a free port (LIGHTHOUSE_MCP_HTTP_PORT; default: stdio).
                     Listens on the loopback address only and refuses requests whose Host
                     or Origin is not a loopback name (DNS rebinding). Each client gets its
                     own MCP session; all act as the same agent.
  --help, -h         print this and exit

The key is only ever read from a file: a key given as an argument would be visible to
every user in \`ps\` and would stay in shell history. Logs go to stderr; over stdio,
stdout is the MCP transport. Over HTTP, the first log line gives the URL to connect to.
`;

const VALUED = ['bridge', 'agent', 'key-file', 'role', 'timeout-ms', 'http'] as const;
type Valued = (typeof VALUED)[number];

const ENV_NAMES: Record<Valued, string> = {
  bridge: 'LIGHTHOUSE_BRIDGE_URL',
  agent: 'LIGHTHOUSE_AGENT_ID',
  'key-file': 'LIGHTHOUSE_KEY_FILE',
  role: 'LIGHTHOUSE_ROLE',
  'timeout-ms': 'LIGHTHOUSE_TIMEOUT_MS',
  http: 'LIGHTHOUSE_MCP_HTTP_PORT',
};

/** Option names that look like a secret passed inline: --key, --secret, --agent-key, --token... */
export const INLINE_SECRET = /(^|-)(key|secret|token|password)s?$/;

/** A value and where it came from, so that an error names the option or variable the user wrote. */
export interface Sourced {
  value: string;
  source: string;
}

function parseArgv(argv: readonly string[]): { help: boolean; flags: Map<Valued, string> } {
  const flags = new Map<Valued, string>();
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      // Someone may have pasted the key itself here; say so without echoing it.
      const shown = /^[0-9a-fA-F]{32,}$/.test(arg)
        ? '(it looks like a key; keys are only read from --key-file)'
        : `"${arg}"`;
      throw new ConfigError(`unexpected argument ${shown} (see --help)`);
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (INLINE_SECRET.test(name)) {
      // The value is deliberately not echoed: it may be the key itself.
      throw new ConfigError(
        `--${name} is refused: a key on the command line is visible to other users in \`ps\` and ` +
          'stays in shell history. Put the agent key in a file only you can read (chmod 600) and ' +
          'pass --key-file PATH instead.',
      );
    }
    if (!(VALUED as readonly string[]).includes(name)) {
      throw new ConfigError(`unknown option --${name} (see --help)`);
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) {
      throw new ConfigError(`--${name} needs a value (see --help)`);
    }
    flags.set(name as Valued, value);
  }
  return { help, flags };
}

function lookup(flags: Map<Valued, string>, env: NodeJS.ProcessEnv, name: Valued): Sourced | undefined {
  const flag = flags.get(name);
  if (flag !== undefined) return { value: flag, source: `--${name}` };
  const envName = ENV_NAMES[name];
  const fromEnv = env[envName];
  // An empty variable counts as unset, as shells and service files often leave them so.
  if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, source: envName };
  return undefined;
}

function required(flags: Map<Valued, string>, env: NodeJS.ProcessEnv, name: Valued): Sourced {
  const found = lookup(flags, env, name);
  if (!found) throw new ConfigError(`--${name} is required (or set ${ENV_NAMES[name]}); see --help`);
  return found;
}

export function parseBridgeUrl(s: Sourced | undefined): string {
  if (!s) return DEFAULT_BRIDGE_URL;
  let url: URL;
  try {
    url = new URL(s.value);
  } catch {
    throw new ConfigError(`${s.source} "${s.value}" is not a URL; expected e.g. ${DEFAULT_BRIDGE_URL}`);
  }
  // The bridge speaks plain HTTP on loopback; the signed client has no TLS.
  if (url.protocol !== 'http:') {
    throw new ConfigError(`${s.source} must be an http:// URL such as ${DEFAULT_BRIDGE_URL}, not ${s.value}`);
  }
  return url.origin;
}

export function parseAgentId(s: Sourced): string {
  const parsed = AgentId.safeParse(s.value);
  if (!parsed.success) throw new ConfigError(`${s.source} "${s.value}": ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

function parseRole(s: Sourced | undefined): McpRole {
  if (!s) return 'agent';
  if ((MCP_ROLES as readonly string[]).includes(s.value)) return s.value as McpRole;
  const why = s.value === 'admin' ? '; admin is the VS Code extension, never an MCP server' : '';
  throw new ConfigError(`${s.source} must be agent or expert, not "${s.value}"${why}`);
}

function parseTimeout(s: Sourced | undefined): number {
  if (!s) return DEFAULT_TIMEOUT_MS;
  const n = Number(s.value);
  if (!/^\d+$/.test(s.value) || n < MIN_TIMEOUT_MS || n > MAX_TIMEOUT_MS) {
    throw new ConfigError(
      `${s.source} must be a whole number of milliseconds from ${MIN_TIMEOUT_MS} to ${MAX_TIMEOUT_MS}, not "${s.value}"`,
    );
  }
  return n;
}

function parseHttpPort(s: Sourced | undefined): number | undefined {
  if (!s) return undefined;
  const n = Number(s.value);
  if (!/^\d+$/.test(s.value) || n > 65_535) {
    throw new ConfigError(`${s.source} must be a port number from 0 to 65535, not "${s.value}"`);
  }
  return n;
}

function readKeyFile(s: Sourced, agentId: string): { key: Buffer; file: string; warnings: string[] } {
  const file = path.resolve(s.value);
  let raw: Buffer;
  let mode: number;
  try {
    raw = fs.readFileSync(file);
    mode = fs.statSync(file).mode;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? `no such file; write this agent's key there first (npm run key -- ${agentId})`
        : code === 'EACCES'
          ? 'permission denied; the file must be readable by the user running the MCP server'
          : code === 'EISDIR'
            ? 'is a directory, not a key file'
            : `cannot be read (${code ?? (e as Error).message})`;
    throw new ConfigError(`${s.source} ${file}: ${why}`);
  }
  let key: Buffer;
  try {
    key = parseKeyMaterial(raw, `${s.source} ${file}`);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  const warnings: string[] = [];
  // Modes mean nothing on Windows; elsewhere a key others can read is a key others can use.
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    warnings.push(
      `${file} is readable by other users (mode ${(mode & 0o777).toString(8)}); run chmod 600 on it`,
    );
  }
  return { key, file, warnings };
}

/** Reads the configuration from arguments (after the script name) and the environment. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ConfigResult {
  const { help, flags } = parseArgv(argv);
  if (help) return { kind: 'help', text: HELP };
  const agentId = parseAgentId(required(flags, env, 'agent'));
  const bridgeUrl = parseBridgeUrl(lookup(flags, env, 'bridge'));
  const role = parseRole(lookup(flags, env, 'role'));
  const timeoutMs = parseTimeout(lookup(flags, env, 'timeout-ms'));
  const httpPort = parseHttpPort(lookup(flags, env, 'http'));
  const { key, file, warnings } = readKeyFile(required(flags, env, 'key-file'), agentId);
  return {
    kind: 'run',
    config: { bridgeUrl, agentId, key, keyFile: file, role, timeoutMs, httpPort, warnings },
  };
}
