import path from 'node:path';
import * as vscode from 'vscode';
import { LeaseEventTypes, ShadowEventTypes } from '../../bridge-image/protocol/event-types.js';
import type { Lease, ShadowChange } from '../../bridge-image/protocol/index.js';
import type { BridgeController } from '../bridge/controller.js';
import { SCHEME, shadowPath } from '../fs/lighthouse-uri.js';
import { ShadowPages } from '../model/shadow-pages.js';
import { shadowRoots, staleLists } from '../model/shadow-roots.js';
import { treeRefresher } from '../util/tree-refresh.js';

export type ShadowNode =
  | { kind: 'agent'; agentId: string; count: number; conflicts: number }
  | { kind: 'file'; agentId: string; change: ShadowChange }
  | { kind: 'lease'; agentId: string; lease: Lease }
  /** The agent's list goes on beyond the changes shown: a click fetches the next page. */
  | { kind: 'more'; agentId: string; remaining: number };

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
   * The changes fetched per agent (when it was expanded), a page at a time, also for file
   * decorations. The root only has counts: a list they prove out of date is dropped there.
   */
  private readonly pages: ShadowPages;
  private leases: Lease[] = [];
  private readonly refreshSoon = treeRefresher(() => this.refresh());

  constructor(
    private readonly bridge: BridgeController,
    pageSize = 200,
  ) {
    this.pages = new ShadowPages(async (agent, page) => {
      const client = this.bridge.client;
      if (!client) throw new Error('the bridge is not connected');
      return client.changes({ agent, ...page });
    }, pageSize);
    bridge.events.onEvents((batch) => {
      if (batch.some((e) => WATCHED.has(e.type))) this.refreshSoon();
    });
    bridge.onDidChangeState(() => this.refresh());
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  /** The "Show more" row: the agent's next page, drawn with those it shows. */
  showMore(node: ShadowNode | undefined): void {
    if (!node) return;
    this.pages.showMore(node.agentId);
    this.refresh();
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
      const stale = staleLists(this.pages.remembered(), summary);
      for (const id of stale) this.pages.forget(id);
      if (stale.length) this.decorationsChanged.fire(undefined);
      return shadowRoots(agents, this.leases, summary).map((r) => ({ kind: 'agent', ...r }));
    }
    if (node.kind !== 'agent') return [];
    // Expanding an agent fetches its changes afresh (the list may have moved since the root was
    // drawn), as many as it showed: a page at first, one more per "Show more".
    const list = await this.pages.load(node.agentId);
    this.decorationsChanged.fire(undefined);
    const files: ShadowNode[] = list.changes.map((change) => ({
      kind: 'file',
      agentId: node.agentId,
      change,
    }));
    if (list.remaining > 0) files.push({ kind: 'more', agentId: node.agentId, remaining: list.remaining });
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
      case 'more': {
        const next = Math.min(this.pages.pageSize, node.remaining);
        const item = new vscode.TreeItem(`Show more… (${node.remaining} more)`);
        item.id = `more:${node.agentId}`;
        item.tooltip = `Fetch the next ${next} of ${node.agentId}'s changes`;
        item.iconPath = new vscode.ThemeIcon('ellipsis');
        item.command = {
          command: 'lighthouse.showMoreChanges',
          title: 'Show More Changes',
          arguments: [node],
        };
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
    const c = this.pages.get(m[1]!)?.byPath.get(m[2]!);
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
