import * as vscode from 'vscode';
import type { BridgeController } from '../bridge/controller.js';
import { mcpArgs } from '../model/mcp-config.js';
import type { Secrets } from '../secrets.js';
import { stableMcpScript } from './launch.js';

/** The agent id VS Code's own agent mode works under. */
export const VSCODE_AGENT_ID = 'vscode-chat';

/**
 * Gives VS Code's agent mode the Lighthouse MCP server while the bridge runs, started with the
 * editor's own Node (process.execPath) so that nothing needs to be installed.
 */
export function registerMcpDefinitions(
  extension: vscode.ExtensionContext,
  bridge: BridgeController,
  secrets: Secrets,
): vscode.Disposable[] {
  const lm = (vscode as { lm?: typeof vscode.lm }).lm;
  if (!lm?.registerMcpServerDefinitionProvider) return []; // an editor without the MCP API
  const changed = new vscode.EventEmitter<void>();
  const provider: vscode.McpServerDefinitionProvider<vscode.McpStdioServerDefinition> = {
    onDidChangeMcpServerDefinitions: changed.event,
    provideMcpServerDefinitions: async () => {
      const info = bridge.info;
      if (!info || bridge.state !== 'ready') return [];
      const keyFile = await secrets.agentKeyFile(bridge.workspace().id, VSCODE_AGENT_ID);
      const args = mcpArgs({
        command: process.execPath,
        script: stableMcpScript(extension),
        bridgeUrl: info.url,
        agentId: VSCODE_AGENT_ID,
        keyFile,
        role: 'agent',
      });
      return [
        new vscode.McpStdioServerDefinition(
          'Lighthouse',
          process.execPath,
          args,
          { ELECTRON_RUN_AS_NODE: '1' },
          String(extension.extension.packageJSON.version ?? '0'),
        ),
      ];
    },
  };
  return [
    changed,
    lm.registerMcpServerDefinitionProvider('lighthouse.mcp', provider),
    bridge.onDidChangeState(() => changed.fire()),
  ];
}
