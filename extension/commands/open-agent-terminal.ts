import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { chooseView, planAgentTerminal, type AgentTerminalPlan } from '../model/agent-terminal.js';
import { workspaceFolder } from '../workspace-id.js';
import { agentIdentity } from './agent-identity.js';
import { command, requireClient, type CommandContext } from './context.js';

export interface OpenAgentTerminalOptions {
  agentId?: string;
  /** When the shadow is not visible here: true opens the terminal in the workspace without asking. */
  inWorkspace?: boolean;
  /** The agent command instead of claude (lighthouse agent --command). */
  command?: string;
}

const hasShadows = (view: string): boolean => {
  try {
    return fs.statSync(path.join(view, 'shadows')).isDirectory();
  } catch {
    return false;
  }
};

/** The shadow shows in the view once the bridge knows the agent; give it a moment. */
async function waitForDir(dir: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!fs.existsSync(dir)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/**
 * Opens a terminal running `lighthouse agent <id>`: the agent (Claude Code by default) in its shadow,
 * with the Lighthouse MCP server and hooks wired. Without a shadow on this machine it says so and
 * offers the workspace instead, where the hook keeps native writes out.
 */
export function registerOpenAgentTerminal(ctx: CommandContext): vscode.Disposable[] {
  return [
    command(ctx, 'lighthouse.openAgentTerminal', async (opts: OpenAgentTerminalOptions = {}) => {
      const folder = workspaceFolder();
      if (!folder) throw new Error('open the project folder first: the agent works on it');
      const who = await agentIdentity(ctx, opts.agentId, 'Agent id for the terminal');
      if (!who) return undefined;
      const { info, agentId, keyFile } = who;
      const client = requireClient(ctx);
      const ready = await client.ready();
      const view = chooseView([info.hostView, ready.fuse.mounted ? ready.fuse.mountPoint : null], hasShadows);
      const viewReason = !ready.fuse.enabled
        ? 'the bridge runs without its FUSE view (setting lighthouse.fuse)'
        : (info.hostViewReason ??
          `the bridge's FUSE view (${ready.fuse.mountPoint}) is not visible on this machine`);
      const plan: AgentTerminalPlan = planAgentTerminal({
        agentId,
        node: process.execPath,
        electron: !!process.versions.electron,
        script: path.join(ctx.extension.extensionPath, 'dist', 'lighthouse.js'),
        bridgeUrl: info.url,
        keyFile,
        project: folder.uri.fsPath,
        view,
        viewReason,
        ...(opts.command ? { command: opts.command } : {}),
      });
      if (plan.shadow === null) {
        ctx.output.appendLine(`no shadow folder for ${agentId} here: ${plan.reason}`);
        const go =
          opts.inWorkspace ??
          (await vscode.window.showWarningMessage(
            `Lighthouse: the shadow of "${agentId}" is not visible on this machine: ${plan.reason}. ` +
              "Open the terminal in the workspace? The agent's Lighthouse tools work in its shadow, and the hook blocks its native writes to the project.",
            'Open in Workspace',
          )) === 'Open in Workspace';
        if (!go) return undefined;
      } else if (!(await waitForDir(plan.shadow, 10_000))) {
        throw new Error(`${plan.shadow} did not appear: the bridge does not show a shadow for "${agentId}"`);
      }
      const terminal = vscode.window.createTerminal(plan.options);
      terminal.show();
      ctx.output.appendLine(`opened terminal "${plan.options.name}" in ${plan.options.cwd}`);
      return { agentId, keyFile, shadow: plan.shadow, cwd: plan.options.cwd, args: plan.options.shellArgs };
    }),
  ];
}
