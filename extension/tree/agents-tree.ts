import * as vscode from 'vscode';
import type { AgentInfo } from '../../bridge-image/protocol/index.js';
import type { BridgeController } from '../bridge/controller.js';
import { treeRefresher } from '../util/tree-refresh.js';

/** Agents: who is registered or connected, their role, capabilities and when they were last seen. */
export class AgentsTree implements vscode.TreeDataProvider<AgentInfo> {
  private readonly changed = new vscode.EventEmitter<AgentInfo | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly refreshSoon = treeRefresher(() => this.changed.fire(undefined));

  constructor(private readonly bridge: BridgeController) {
    bridge.events.onEvents((batch) => {
      if (batch.some((e) => e.type.startsWith('agent.') || e.type.startsWith('session.'))) this.refreshSoon();
    });
    bridge.onDidChangeState(() => this.refreshSoon());
  }

  async getChildren(node?: AgentInfo): Promise<AgentInfo[]> {
    if (node || !this.bridge.client) return [];
    const { agents } = await this.bridge.client.listAgents();
    return agents.sort(
      (a, b) => Number(b.connected) - Number(a.connected) || a.agentId.localeCompare(b.agentId),
    );
  }

  getTreeItem(a: AgentInfo): vscode.TreeItem {
    const item = new vscode.TreeItem(a.displayName ? `${a.displayName} (${a.agentId})` : a.agentId);
    item.id = `agent:${a.agentId}`;
    const seen = a.lastSeenAt ? `seen ${new Date(a.lastSeenAt).toLocaleTimeString()}` : 'never seen';
    item.description = `${a.role}${a.capabilities.length ? ` · ${a.capabilities.join(', ')}` : ''} · ${a.connected ? 'connected' : seen}`;
    item.tooltip = [
      `${a.agentId} (${a.role})`,
      `capabilities: ${a.capabilities.join(', ') || 'none'}`,
      `sessions: ${a.sessions}`,
      `registered: ${a.registeredAt ?? 'no'}`,
      `last seen: ${a.lastSeenAt ?? 'never'}`,
    ].join('\n');
    item.iconPath = new vscode.ThemeIcon(
      a.connected ? 'pass-filled' : 'circle-outline',
      a.connected ? new vscode.ThemeColor('testing.iconPassed') : undefined,
    );
    item.contextValue = `agent.${a.role}`;
    return item;
  }
}
