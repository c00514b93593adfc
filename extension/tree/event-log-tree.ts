import * as vscode from 'vscode';
import type { Event } from '../../bridge-image/protocol/index.js';
import type { BridgeController } from '../bridge/controller.js';
import { EventLogModel, type EventFilter } from '../model/event-log.js';
import { treeRefresher } from '../util/tree-refresh.js';

export type EventNode = { kind: 'event'; event: Event } | { kind: 'more'; remaining: number };

/**
 * The Event Log: live from the bridge's WebSocket (never polled), newest first, filtered by type and
 * agent, shown a page at a time so that tens of thousands of events stay cheap to draw.
 */
export class EventLogTree implements vscode.TreeDataProvider<EventNode> {
  private readonly changed = new vscode.EventEmitter<EventNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  readonly model: EventLogModel;
  private shown: number;
  private readonly seqWaiters = new Map<number, (() => void)[]>();
  /** The newest seq the view has drawn so far. */
  private newestShown = 0;
  view: vscode.TreeView<EventNode> | undefined;
  private readonly refresh = treeRefresher(() => this.changed.fire(undefined));

  constructor(
    bridge: BridgeController,
    private readonly pageSize: number,
    capacity: number,
  ) {
    this.model = new EventLogModel(capacity);
    this.shown = pageSize;
    bridge.events.onEvents((batch) => {
      this.model.add(batch);
      this.refresh();
    });
    bridge.onDidChangeState((s) => {
      if (s === 'stopped') {
        this.model.clear();
        this.refresh();
      }
      this.describe();
    });
  }

  setFilter(f: EventFilter): void {
    this.model.setFilter(f);
    this.shown = this.pageSize;
    void vscode.commands.executeCommand(
      'setContext',
      'lighthouse.eventFilterActive',
      f.types.length > 0 || f.agent !== undefined,
    );
    this.refresh();
  }

  showMore(): void {
    this.shown += this.pageSize;
    this.refresh();
  }

  private describe(): void {
    if (!this.view) return;
    const f = this.model.filter;
    const parts = [];
    if (f.types.length) parts.push(f.types.join(', '));
    if (f.agent) parts.push(`agent ${f.agent}`);
    this.view.description = `${this.model.matchCount} events${parts.length ? ` · ${parts.join(' · ')}` : ''}`;
  }

  /** Resolves once the view has drawn the event with this seq (for tests and the benchmark). */
  whenShown(seq: number): Promise<void> {
    // The push may beat the append's own answer: then it is on screen already.
    if (seq <= this.newestShown) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.seqWaiters.get(seq) ?? [];
      list.push(resolve);
      this.seqWaiters.set(seq, list);
    });
  }

  getChildren(node?: EventNode): EventNode[] {
    if (node) return [];
    this.describe();
    const page = this.model.page(0, this.shown);
    const nodes: EventNode[] = page.map((event) => ({ kind: 'event', event }));
    this.newestShown = Math.max(this.newestShown, page[0]?.seq ?? 0);
    const remaining = this.model.matchCount - page.length;
    if (remaining > 0) nodes.push({ kind: 'more', remaining });
    if (this.seqWaiters.size) {
      for (const e of page) {
        const waiters = this.seqWaiters.get(e.seq);
        if (waiters) {
          this.seqWaiters.delete(e.seq);
          for (const w of waiters) w();
        }
      }
    }
    return nodes;
  }

  getTreeItem(node: EventNode): vscode.TreeItem {
    if (node.kind === 'more') {
      const item = new vscode.TreeItem(`Show ${Math.min(this.pageSize, node.remaining)} older…`);
      item.description = `${node.remaining} more`;
      item.command = { command: 'lighthouse.showMoreEvents', title: 'Show older events' };
      item.iconPath = new vscode.ThemeIcon('ellipsis');
      return item;
    }
    const e = node.event;
    const item = new vscode.TreeItem(e.type, vscode.TreeItemCollapsibleState.None);
    item.id = `event:${e.seq}`;
    item.description = `${e.agentId} · ${e.ts.slice(11, 23)} · #${e.seq}`;
    item.tooltip = `#${e.seq} ${e.type} by ${e.agentId} at ${e.ts}\nstream ${e.stream} v${e.streamVersion}`;
    item.iconPath = new vscode.ThemeIcon(iconFor(e.type));
    item.contextValue = 'event';
    item.command = { command: 'lighthouse.openEvent', title: 'Open Event', arguments: [node] };
    return item;
  }
}

function iconFor(type: string): string {
  if (type.startsWith('security.')) return 'shield';
  if (type.startsWith('shadow.')) return 'file-code';
  if (type.startsWith('lease.')) return 'lock';
  if (type.startsWith('review.') || type.startsWith('validation.')) return 'checklist';
  if (type.startsWith('agent.') || type.startsWith('session.')) return 'account';
  if (type.startsWith('message.') || type.startsWith('elicitation.')) return 'comment';
  return 'circle-small-filled';
}
