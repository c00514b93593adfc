import path from 'node:path';
import { mergeClaudeSettings, mergeMcpJson, type McpLaunch } from '../../extension/model/mcp-config.js';
import type { AgentArgs } from './args.js';

/** The name of the MCP server in the agent's config: its tools are mcp__lighthouse__*. */
export const MCP_SERVER_NAME = 'lighthouse';

export interface LaunchInput {
  args: AgentArgs;
  keyFile: string;
  /** The agent's shadow on this machine; null: run in the project, writes confined by the hook. */
  shadow: string | null;
  /** The Node that runs the MCP server and the hooks. */
  node: string;
  /** lighthouse-mcp's bundle. */
  mcpScript: string;
  /** The private folder (0700) the config files go in. */
  configDir: string;
}

export interface LaunchPlan {
  command: string;
  args: string[];
  cwd: string;
  /** What is set on top of the caller's environment (undefined: removed from it). */
  env: Record<string, string | undefined>;
  /** Files to write (mode 0600) before starting: path → content. */
  files: Record<string, string>;
  /** The command is Claude Code, which gets --settings and --mcp-config. */
  claude: boolean;
}

/** A command named claude (claude.exe, claude.cmd on Windows) is Claude Code. */
export function isClaudeCode(program: string): boolean {
  return /^claude(\.exe|\.cmd)?$/i.test(path.basename(program));
}

/** What `lighthouse agent` runs: pure, from what it found. */
export function planLaunch(i: LaunchInput): LaunchPlan {
  const { args } = i;
  const launch: McpLaunch = {
    command: i.node,
    script: i.mcpScript,
    bridgeUrl: args.bridgeUrl,
    agentId: args.agentId,
    keyFile: i.keyFile,
    role: 'agent',
  };
  const mcpConfig = path.join(i.configDir, 'mcp.json');
  const settings = path.join(i.configDir, 'settings.json');
  const [program, ...words] = args.command as [string, ...string[]];
  const claude = isClaudeCode(program);
  return {
    command: program,
    // Ours last, --mcp-config at the very end: it takes several values, and would swallow a prompt after it.
    args: [...words, ...args.extra, ...(claude ? ['--settings', settings, '--mcp-config', mcpConfig] : [])],
    cwd: i.shadow ?? args.project,
    env: {
      // The hook confines native writes to this shadow; none here means the project is off limits.
      LIGHTHOUSE_SHADOW_DIR: i.shadow ?? undefined,
      LIGHTHOUSE_PROJECT_DIR: args.project,
      LIGHTHOUSE_AGENT_ID: args.agentId,
      LIGHTHOUSE_BRIDGE_URL: args.bridgeUrl,
      LIGHTHOUSE_KEY_FILE: i.keyFile,
      LIGHTHOUSE_MCP_CONFIG: mcpConfig,
      LIGHTHOUSE_CLAUDE_SETTINGS: settings,
      // Another agent's role or identity must not leak in from the caller's environment.
      LIGHTHOUSE_ROLE: undefined,
      LIGHTHOUSE_ISOLATION: undefined,
    },
    files: {
      [mcpConfig]: mergeMcpJson(undefined, MCP_SERVER_NAME, launch),
      [settings]: mergeClaudeSettings(undefined, launch),
    },
    claude,
  };
}
