import * as vscode from 'vscode';
import { ShadowEventTypes } from '../../bridge-image/protocol/event-types.js';
import type { BridgeController } from '../bridge/controller.js';
import { workspaceFolder } from '../workspace-id.js';
import { parseLocation, SCHEME } from './lighthouse-uri.js';
import { loadProtocol } from '../util/protocol.js';

const SHADOW_EVENTS = new Set<string>(Object.values(ShadowEventTypes));

/**
 * A read-only file system over the bridge: the workspace as it is (current/), each agent's shadow
 * (shadows/<agent>/) and any shadow as it stood at an event (history/<seq>/<agent>/), so shadow
 * files open in editors and in the diff editor.
 */
export class LighthouseFileSystem implements vscode.FileSystemProvider {
  private readonly changed = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changed.event;

  constructor(private readonly bridge: BridgeController) {
    bridge.events.onEvents((batch) => {
      const changes: vscode.FileChangeEvent[] = [];
      for (const e of batch) {
        if (!SHADOW_EVENTS.has(e.type)) continue;
        const d = e.data as { path?: string; from?: string; to?: string; paths?: string[] } | null;
        const paths = [d?.path, d?.from, d?.to, ...(d?.paths ?? [])].filter((p): p is string => !!p);
        const owner = (e.data as { agentId?: string } | null)?.agentId ?? e.agentId;
        for (const p of paths) {
          changes.push({
            type: vscode.FileChangeType.Changed,
            uri: vscode.Uri.from({ scheme: SCHEME, path: `/shadows/${owner}/${p}` }),
          });
        }
      }
      if (changes.length) this.changed.fire(changes);
    });
  }

  private client() {
    const c = this.bridge.client;
    if (!c) throw vscode.FileSystemError.Unavailable('the Lighthouse bridge is not running');
    return c;
  }

  private currentUri(path: string): vscode.Uri {
    const folder = workspaceFolder();
    if (!folder) throw vscode.FileSystemError.Unavailable('no workspace folder is open');
    return path ? vscode.Uri.joinPath(folder.uri, path) : folder.uri;
  }

  watch(): vscode.Disposable {
    // Changes are pushed from the bridge's event stream (see the constructor).
    return new vscode.Disposable(() => undefined);
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const loc = this.parse(uri);
    const dir = (): vscode.FileStat => ({
      type: vscode.FileType.Directory,
      ctime: 0,
      mtime: 0,
      size: 0,
      permissions: vscode.FilePermission.Readonly,
    });
    switch (loc.kind) {
      case 'root':
      case 'shadows':
      case 'history':
      case 'historySeq':
        return dir();
      case 'current': {
        const s = await vscode.workspace.fs.stat(this.currentUri(loc.path));
        return { ...s, permissions: vscode.FilePermission.Readonly };
      }
      case 'shadow': {
        if (!loc.path) return dir();
        const s = await this.mapErrors(uri, () =>
          this.client().stat(loc.path, { agent: loc.agent, ...(loc.at !== undefined ? { at: loc.at } : {}) }),
        );
        const mtime = Date.parse(s.mtime) || 0;
        return {
          type: s.type === 'dir' ? vscode.FileType.Directory : vscode.FileType.File,
          ctime: mtime,
          mtime,
          size: s.size,
          permissions: vscode.FilePermission.Readonly,
        };
      }
    }
  }

  async readDirectory(uri: vscode.Uri): Promise<[string, vscode.FileType][]> {
    const loc = this.parse(uri);
    switch (loc.kind) {
      case 'root':
        return [
          ['current', vscode.FileType.Directory],
          ['shadows', vscode.FileType.Directory],
          ['history', vscode.FileType.Directory],
        ];
      case 'shadows': {
        const { agents } = await this.mapErrors(uri, () => this.client().listAgents());
        return agents.filter((a) => a.role !== 'admin').map((a) => [a.agentId, vscode.FileType.Directory]);
      }
      case 'history':
      case 'historySeq':
        // Every seq is a folder; there are too many to list: open history/<seq>/<agent>/ directly.
        return [];
      case 'current':
        return vscode.workspace.fs.readDirectory(this.currentUri(loc.path));
      case 'shadow': {
        const listing = await this.mapErrors(uri, () =>
          this.client().list(loc.path, { agent: loc.agent, ...(loc.at !== undefined ? { at: loc.at } : {}) }),
        );
        return listing.entries.map((e) => [
          e.name,
          e.type === 'dir' ? vscode.FileType.Directory : vscode.FileType.File,
        ]);
      }
    }
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const loc = this.parse(uri);
    if (loc.kind === 'current') return vscode.workspace.fs.readFile(this.currentUri(loc.path));
    if (loc.kind !== 'shadow' || !loc.path) throw vscode.FileSystemError.FileIsADirectory(uri);
    return this.mapErrors(uri, () =>
      this.client().readFile(loc.path, { agent: loc.agent, ...(loc.at !== undefined ? { at: loc.at } : {}) }),
    );
  }

  private parse(uri: vscode.Uri) {
    try {
      return parseLocation(uri.path);
    } catch (e) {
      throw vscode.FileSystemError.FileNotFound(`${uri.toString()}: ${(e as Error).message}`);
    }
  }

  private async mapErrors<T>(uri: vscode.Uri, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      // The client's errors come from the protocol module, loaded with the client.
      if (e instanceof (await loadProtocol()).BridgeError) {
        if (e.status === 404) throw vscode.FileSystemError.FileNotFound(uri);
        if (e.status === 403) throw vscode.FileSystemError.NoPermissions(`${uri.toString()}: ${e.message}`);
      }
      throw e;
    }
  }

  private readOnly(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(
      `${uri.toString()}: lighthouse: files are read-only; agents change their shadows, you apply them`,
    );
  }
  createDirectory(uri: vscode.Uri): void {
    this.readOnly(uri);
  }
  writeFile(uri: vscode.Uri): void {
    this.readOnly(uri);
  }
  delete(uri: vscode.Uri): void {
    this.readOnly(uri);
  }
  rename(uri: vscode.Uri): void {
    this.readOnly(uri);
  }
}
