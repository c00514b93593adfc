import path from 'node:path';

/**
 * "Lighthouse: Open Agent Terminal": a terminal whose process is `lighthouse agent <id>` (the
 * bundled dist/lighthouse.js), which wires the MCP server and the hooks and starts the agent
 * command in the agent's shadow. Pure: what the command found goes in, the terminal's options come out.
 */
export interface AgentTerminalInput {
  agentId: string;
  /** The Node to run lighthouse.js with (the editor's own: process.execPath). */
  node: string;
  /** The editor's Node is Electron: it runs scripts with ELECTRON_RUN_AS_NODE=1. */
  electron: boolean;
  /** dist/lighthouse.js */
  script: string;
  bridgeUrl: string;
  keyFile: string;
  /** The workspace folder the bridge serves. */
  project: string;
  /** The bridge's FUSE view on this machine, when it is visible here. */
  view: string | undefined;
  /** Why the view is not visible here, when it is not. */
  viewReason: string | undefined;
  /** The agent command, when not lighthouse agent's default (claude). */
  command?: string;
}

/** What vscode.window.createTerminal takes (a subset of vscode.TerminalOptions). */
export interface TerminalSpec {
  name: string;
  cwd: string;
  shellPath: string;
  shellArgs: string[];
  env: Record<string, string>;
}

export type AgentTerminalPlan =
  | { shadow: string; options: TerminalSpec }
  /** No shadow here: `options` run the agent in the workspace, its native writes blocked by the hook. */
  | { shadow: null; reason: string; options: TerminalSpec };

export function planAgentTerminal(i: AgentTerminalInput): AgentTerminalPlan {
  const base = [i.script, 'agent', i.agentId, '--bridge', i.bridgeUrl, '--project', i.project];
  if (i.command) base.push('--command', i.command);
  const options = (cwd: string, more: string[]): TerminalSpec => ({
    name: `Lighthouse: ${i.agentId}`,
    cwd,
    shellPath: i.node,
    // The key goes by its file's path only.
    shellArgs: [...base, '--key-file', i.keyFile, ...more],
    env: i.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {},
  });
  if (i.view) {
    const shadow = path.join(i.view, 'shadows', i.agentId);
    return { shadow, options: options(shadow, ['--mount', i.view]) };
  }
  return {
    shadow: null,
    reason: i.viewReason ?? "the bridge's FUSE view is not visible on this machine",
    options: options(i.project, ['--no-shadow']),
  };
}

/**
 * Which view to use: the container's, bound to this machine, else the one the bridge reports
 * (a bridge on this machine), whichever shows its shadows/ folder here.
 */
export function chooseView(
  candidates: (string | null | undefined)[],
  visible: (mountPoint: string) => boolean,
): string | undefined {
  return candidates.find((c): c is string => !!c && visible(c));
}
