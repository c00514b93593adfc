import path from 'node:path';
import * as vscode from 'vscode';
import { LeaseEventTypes, ShadowEventTypes } from '../../bridge-image/protocol/event-types.js';
import type { Lease, ShadowChange } from '../../bridge-image/protocol/index.js';
import type { BridgeController } from '../bridge/controller.js';
import { SCHEME, shadowPath } from '../fs/lighthouse-uri.js';
import { shadowRoots, staleLists } from '../model/shadow-roots.js';
import { treeRefresher } from '../util/tree-refresh.js';

export type ShadowNode =
  | { kind: 'agent'; agentId: string; count: number; conflicts: number }
  | { kind: 'file'; agentId: string; change: ShadowChange }
  | { kind: 'lease'; agentId: string; lease: Lease };

const WATCHED = new Set<string>([...Object.values(ShadowEventTypes), ...Object.values(LeaseEventTypes)]);
const STATUS_LETTER: Record<ShadowChange['status'], string> = {
  added: 'A',
  modified: 'M',
  deleted: 'D',
  moved: 'R',
};

export function shadowUri(agentId: string, p: string): vscode.Uri {
  return vscode.Uri.from({ scheme: SCHEME, path: shadowPath(agentId, p) });
}

/**
 * Shadow Files: per agent, its changed files (status, conflicts, who else changed them) and the
 * leases it holds. Refreshed when the bridge pushes shadow or lease events.
 */
export class ShadowTree implements vscode.TreeDataProvider<ShadowNode>, vscode.FileDecorationProvider {
  private readonly changed = new vscode.EventEmitter<ShadowNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly decorationsChanged = new vscode.EventEmitter<vscode.Uri[] | undefined>();
  readonly onDidChangeFileDecorations = this.decorationsChanged.event;
  /**
   * The last changes fetched per agent (when it was expanded), by path in the bridge's order, for
   * file decorations. The root only has counts: a list they prove out of date is dropped there.
   */
  private readonly changes = new Map<string, Map<string, ShadowChange>>();
  private leases: Lease[] = [];
  private readonly refreshSoon = treeRefresher(() => this.refresh());

  constructor(private readonly bridge: BridgeController) {
    bridge.events.onEvents((batch) => {
      if (batch.some((e) => WATCHED.has(e.type))) this.refreshSoon();
    });
    bridge.onDidChangeState(() => this.refresh());
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  private remember(agentId: string, changes: ShadowChange[]): void {
    this.changes.set(agentId, new Map(changes.map((c) => [c.path, c])));
  }

  async getChildren(node?: ShadowNode): Promise<ShadowNode[]> {
    const client = this.bridge.client;
    if (!client) return [];
    if (!node) {
      // Counts only: every agent's full change list on each burst of shadow events would cost the
      // bridge and this window far more than the rows show.
      const [{ agents }, leases, summary] = await Promise.all([
        client.listAgents(),
        client.listLeases(),
        client.shadowSummary(),
      ]);
      this.leases = leases.leases;
      const stale = staleLists(this.changes, summary);
      for (const id of stale) this.changes.delete(id);
      if (stale.length) this.decorationsChanged.fire(undefined);
      return shadowRoots(agents, this.leases, summary).map((r) => ({ kind: 'agent', ...r }));
    }
    if (node.kind !== 'agent') return [];
    // Expanding an agent fetches its changes afresh: the list may have moved since the root was drawn.
    const { changes } = await client.changes({ agent: node.agentId });
    this.remember(node.agentId, changes);
    this.decorationsChanged.fire(undefined);
    const files: ShadowNode[] = changes
      .slice()
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
      .map((change) => ({ kind: 'file', agentId: node.agentId, change }));
    const leases: ShadowNode[] = this.leases
      .filter((l) => l.agentId === node.agentId)
      .map((lease) => ({ kind: 'lease', agentId: node.agentId, lease }));
    return [...leases, ...files];
  }

  getTreeItem(node: ShadowNode): vscode.TreeItem {
    switch (node.kind) {
      case 'agent': {
        const item = new vscode.TreeItem(node.agentId, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `agent:${node.agentId}`;
        item.description = node.conflicts
          ? `${node.count} changed · ${node.conflicts} conflict${node.conflicts === 1 ? '' : 's'}`
          : `${node.count} changed`;
        item.iconPath = new vscode.ThemeIcon('account');
        item.contextValue = node.count ? 'shadowAgent' : 'shadowAgentEmpty';
        return item;
      }
      case 'lease': {
        const l = node.lease;
        const item = new vscode.TreeItem(
          `lease: ${l.globs.join(', ')}`,
          vscode.TreeItemCollapsibleState.None,
        );
        item.id = `lease:${l.id}`;
        item.description = `${l.mode}, until ${new Date(l.expiresAt).toLocaleTimeString()}`;
        item.iconPath = new vscode.ThemeIcon(l.mode === 'exclusive' ? 'lock' : 'unlock');
        item.contextValue = 'lease';
        return item;
      }
      case 'file': {
        const c = node.change;
        const uri = shadowUri(node.agentId, c.path);
        const item = new vscode.TreeItem(uri, vscode.TreeItemCollapsibleState.None);
        item.id = `file:${node.agentId}:${c.path}`;
        item.label = path.posix.basename(c.path);
        const dir = path.posix.dirname(c.path);
        const notes: string[] = [c.status];
        if (c.conflict) notes.push('conflict');
        if (c.alsoChangedBy.length) notes.push(`also ${c.alsoChangedBy.join(', ')}`);
        if (c.movedFrom) notes.push(`from ${c.movedFrom}`);
        item.description = `${dir === '.' ? '' : `${dir} · `}${notes.join(' · ')}`;
        item.tooltip = `${c.path}\n${notes.join(', ')}`;
        item.contextValue = c.conflict ? 'shadowFileConflict' : 'shadowFile';
        if (c.conflict)
          item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));
        item.command = { command: 'lighthouse.openChange', title: 'Open Change', arguments: [node] };
        return item;
      }
    }
  }

  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    if (uri.scheme !== SCHEME) return undefined;
    const m = /^\/shadows\/([^/]+)\/(.+)$/.exec(uri.path);
    if (!m) return undefined;
    const c = this.changes.get(m[1]!)?.get(m[2]!);
    if (!c) return undefined;
    if (c.conflict)
      return new vscode.FileDecoration('!', 'conflict', new vscode.ThemeColor('list.errorForeground'));
    const colors: Record<ShadowChange['status'], string> = {
      added: 'gitDecoration.addedResourceForeground',
      modified: 'gitDecoration.modifiedResourceForeground',
      deleted: 'gitDecoration.deletedResourceForeground',
      moved: 'gitDecoration.renamedResourceForeground',
    };
    return new vscode.FileDecoration(
      STATUS_LETTER[c.status],
      c.status,
      new vscode.ThemeColor(colors[c.status]),
    );
  }
}
