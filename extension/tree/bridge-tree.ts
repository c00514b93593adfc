import * as vscode from 'vscode';
import type { Status } from '../../bridge-image/protocol/index.js';
import type { BridgeController } from '../bridge/controller.js';
import { treeRefresher } from '../util/tree-refresh.js';

interface Row {
  label: string;
  value: string;
  icon: string;
}

/** Bridge: its state, container, image, uptime and a few numbers; welcome content when stopped. */
export class BridgeTree implements vscode.TreeDataProvider<Row> {
  private readonly changed = new vscode.EventEmitter<Row | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  // Numbers move with every event; redraw at most once a second.
  private readonly refreshSoon = treeRefresher(() => this.changed.fire(undefined), 1000);

  constructor(private readonly bridge: BridgeController) {
    bridge.onDidChangeState(() => this.refreshSoon());
    bridge.events.onEvents(() => this.refreshSoon());
  }

  async getChildren(row?: Row): Promise<Row[]> {
    // No rows while stopped, so that the welcome content (Start) shows.
    if (row || this.bridge.state === 'stopped') return [];
    const info = this.bridge.info;
    const rows: Row[] = [{ label: 'State', value: this.bridge.state, icon: 'pulse' }];
    if (!info) return rows;
    rows.push(
      { label: 'URL', value: info.url, icon: 'globe' },
      {
        label: 'Container',
        value: `${info.containerName} (${info.containerId.slice(0, 12)})`,
        icon: 'package',
      },
      { label: 'Image', value: info.image, icon: 'file-binary' },
      { label: 'Engine', value: info.engine, icon: 'server' },
    );
    if (info.hostView) rows.push({ label: 'FUSE view', value: info.hostView, icon: 'folder-library' });
    else if (info.hostViewReason)
      rows.push({
        label: 'FUSE view',
        value: `in the container only: ${info.hostViewReason}`,
        icon: 'warning',
      });
    let status: Status | undefined;
    try {
      status = await this.bridge.client?.status();
    } catch {
      // unhealthy: the state row says so
    }
    if (status) {
      rows.push(
        { label: 'Uptime', value: formatDuration(status.uptimeSeconds), icon: 'clock' },
        { label: 'Events', value: `${status.eventCount} (last #${status.lastSeq})`, icon: 'list-ordered' },
        { label: 'Store', value: `${(status.storeBytes / 1048576).toFixed(1)} MB`, icon: 'database' },
        { label: 'Sessions', value: String(status.activeSessions), icon: 'key' },
        { label: 'Connected agents', value: String(status.connectedAgents), icon: 'account' },
      );
    }
    return rows;
  }

  getTreeItem(row: Row): vscode.TreeItem {
    const item = new vscode.TreeItem(row.label);
    item.id = `bridge:${row.label}`;
    item.description = row.value;
    item.tooltip = `${row.label}: ${row.value}`;
    item.iconPath = new vscode.ThemeIcon(row.icon);
    return item;
  }
}

export function formatDuration(seconds: number): string {
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h) return `${h} h ${m} min`;
  if (m) return `${m} min ${s % 60} s`;
  return `${s} s`;
}
