/**
 * The configuration handed to Claude Code: a `.mcp.json` entry and `.claude/settings.json` hooks.
 * Merged into what is there, never replacing the user's other entries; a file that is not valid
 * JSON is refused rather than overwritten.
 */
export interface McpLaunch {
  /** e.g. "node" */
  command: string;
  /** Path of lighthouse-mcp's bundle. */
  script: string;
  bridgeUrl: string;
  agentId: string;
  keyFile: string;
  role: 'agent' | 'expert';
}

export function mcpArgs(l: McpLaunch): string[] {
  const args = [l.script, '--bridge', l.bridgeUrl, '--agent', l.agentId, '--key-file', l.keyFile];
  if (l.role !== 'agent') args.push('--role', l.role);
  return args;
}

export function mcpServerEntry(l: McpLaunch): { type: 'stdio'; command: string; args: string[] } {
  return { type: 'stdio', command: l.command, args: mcpArgs(l) };
}

export class ConfigFileError extends Error {
  override name = 'ConfigFileError';
}

function parseObject(text: string | undefined, file: string): Record<string, unknown> {
  if (text === undefined || text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ConfigFileError(
      `${file} is not valid JSON (${(e as Error).message}); fix it first, it was left as it is`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigFileError(`${file} does not hold a JSON object; it was left as it is`);
  }
  return parsed as Record<string, unknown>;
}

/** `.mcp.json` with the entry `name` set to this launch; other servers are kept. */
export function mergeMcpJson(existing: string | undefined, name: string, l: McpLaunch): string {
  const doc = parseObject(existing, '.mcp.json');
  const servers = doc.mcpServers;
  if (servers !== undefined && (typeof servers !== 'object' || servers === null || Array.isArray(servers))) {
    throw new ConfigFileError('.mcp.json: "mcpServers" is not an object; it was left as it is');
  }
  doc.mcpServers = { ...(servers as Record<string, unknown> | undefined), [name]: mcpServerEntry(l) };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The hook command line: the agent's identity through the environment, as lighthouse-mcp reads it. */
export function hookCommand(l: McpLaunch, phase: 'pre-tool-use' | 'post-tool-use'): string {
  return [
    `LIGHTHOUSE_BRIDGE_URL=${shellQuote(l.bridgeUrl)}`,
    `LIGHTHOUSE_AGENT_ID=${shellQuote(l.agentId)}`,
    `LIGHTHOUSE_KEY_FILE=${shellQuote(l.keyFile)}`,
    shellQuote(l.command),
    shellQuote(l.script),
    'hook',
    phase,
  ].join(' ');
}

interface HookGroup {
  matcher?: string;
  hooks?: { type?: string; command?: string }[];
}

/** `.claude/settings.json` with Lighthouse's PreToolUse and PostToolUse hooks (replacing older ones of ours). */
export function mergeClaudeSettings(existing: string | undefined, l: McpLaunch): string {
  const doc = parseObject(existing, '.claude/settings.json');
  const hooks = (doc.hooks ?? {}) as Record<string, unknown>;
  if (typeof hooks !== 'object' || Array.isArray(hooks)) {
    throw new ConfigFileError('.claude/settings.json: "hooks" is not an object; it was left as it is');
  }
  const ours = (h: { command?: string }) =>
    h.command?.includes(' hook pre-tool-use') || h.command?.includes(' hook post-tool-use');
  // Our hooks go, the user's stay, even one added to the same group as ours; a group left empty goes.
  const withoutOurs = (g: HookGroup): HookGroup[] => {
    if (!Array.isArray(g.hooks) || !g.hooks.some(ours)) return [g];
    const rest = g.hooks.filter((h) => !ours(h));
    return rest.length ? [{ ...g, hooks: rest }] : [];
  };
  const put = (event: string, matcher: string, phase: 'pre-tool-use' | 'post-tool-use') => {
    const list = Array.isArray(hooks[event]) ? (hooks[event] as HookGroup[]).flatMap(withoutOurs) : [];
    list.push({ matcher, hooks: [{ type: 'command', command: hookCommand(l, phase) }] });
    hooks[event] = list;
  };
  put('PreToolUse', '*', 'pre-tool-use');
  put('PostToolUse', 'Edit|Write|MultiEdit|Bash', 'post-tool-use');
  doc.hooks = hooks;
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** The `claude mcp add …` line for people who prefer the CLI. */
export function claudeMcpAddCommand(name: string, l: McpLaunch): string {
  return [
    'claude',
    'mcp',
    'add',
    shellQuote(name),
    '--',
    shellQuote(l.command),
    ...mcpArgs(l).map(shellQuote),
  ].join(' ');
}
