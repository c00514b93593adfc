import path from 'node:path';
import * as vscode from 'vscode';
import { stableMcpScript } from '../mcp/launch.js';
import {
  claudeMcpAddCommand,
  mergeClaudeSettings,
  mergeMcpJson,
  type McpLaunch,
} from '../model/mcp-config.js';
import { workspaceFolder } from '../workspace-id.js';
import { agentIdentity } from './agent-identity.js';
import { command, type CommandContext } from './context.js';

export interface ConnectOptions {
  agentId?: string;
  role?: 'agent' | 'expert';
  /** true: write the hooks; false: do not; undefined: ask. */
  hooks?: boolean;
  /** Do not show the `claude mcp add` message (tests). */
  quiet?: boolean;
}

async function readText(uri: vscode.Uri): Promise<string | undefined> {
  try {
    return Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
  } catch {
    return undefined;
  }
}

/**
 * Creates an agent identity for Claude Code: its key as a 0600 file, the project's `.mcp.json`
 * entry pointing at it (no secret in the file), optionally the hooks, and a `claude mcp add` line.
 */
export function registerConnectClaudeCode(ctx: CommandContext): vscode.Disposable[] {
  return [
    command(ctx, 'lighthouse.connectClaudeCode', async (opts: ConnectOptions = {}) => {
      const folder = workspaceFolder();
      if (!folder) throw new Error('open the project folder first: .mcp.json goes in its root');
      const who = await agentIdentity(ctx, opts.agentId, 'Agent id for this Claude Code');
      if (!who) return undefined;
      const { info, agentId, keyFile } = who;
      const launch: McpLaunch = {
        command: 'node',
        script: stableMcpScript(ctx.extension),
        bridgeUrl: info.url,
        agentId,
        keyFile,
        role: opts.role ?? 'agent',
      };
      const mcpJson = vscode.Uri.joinPath(folder.uri, '.mcp.json');
      await vscode.workspace.fs.writeFile(
        mcpJson,
        Buffer.from(mergeMcpJson(await readText(mcpJson), 'lighthouse', launch)),
      );
      ctx.output.appendLine(`wrote ${mcpJson.fsPath} (agent ${agentId}, key ${keyFile})`);

      let hooks = opts.hooks;
      if (hooks === undefined) {
        const pick = await vscode.window.showInformationMessage(
          `Lighthouse: .mcp.json now connects Claude Code as "${agentId}". Also add the pre/post-tool-use hooks to .claude/settings.json, so every tool call is validated?`,
          'Add Hooks',
          'Not Now',
        );
        hooks = pick === 'Add Hooks';
      }
      if (hooks) {
        const settings = vscode.Uri.joinPath(folder.uri, '.claude', 'settings.json');
        await vscode.workspace.fs.writeFile(
          settings,
          Buffer.from(mergeClaudeSettings(await readText(settings), launch)),
        );
        ctx.output.appendLine(`wrote ${path.join('.claude', 'settings.json')} hooks`);
      }
      const cli = claudeMcpAddCommand('lighthouse', launch);
      ctx.output.appendLine(`or by hand: ${cli}`);
      if (!opts.quiet) {
        void vscode.window
          .showInformationMessage(`Or register it by hand: ${cli}`, 'Copy Command')
          .then((pick) => (pick ? vscode.env.clipboard.writeText(cli) : undefined));
      }
      return { agentId, keyFile, mcpJson: mcpJson.fsPath, command: cli };
    }),
  ];
}
