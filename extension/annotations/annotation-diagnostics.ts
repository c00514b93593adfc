import * as vscode from 'vscode';
import { AnnotationEventTypes } from '../../bridge-image/protocol/event-types.js';
import type { Annotation } from '../../bridge-image/protocol/index.js';
import type { BridgeController } from '../bridge/controller.js';
import { debounce } from '../util/debounce.js';
import { workspaceFolder } from '../workspace-id.js';

const WATCHED = new Set<string>(Object.values(AnnotationEventTypes));

/**
 * Agents' annotations in the editor at their lines, as information diagnostics (hover, Problems
 * view, and the line's squiggle), kept current from the bridge's annotation events.
 */
export class AnnotationDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('lighthouse');
  private readonly refreshSoon = debounce(() => void this.refresh(), 150);
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly bridge: BridgeController) {
    this.subscriptions.push(
      bridge.events.onEvents((batch) => {
        if (batch.some((e) => WATCHED.has(e.type))) this.refreshSoon();
      }),
      bridge.onDidChangeState((s) => {
        if (s === 'ready') void this.refresh();
        if (s === 'stopped') this.collection.clear();
      }),
    );
  }

  async refresh(): Promise<void> {
    const client = this.bridge.client;
    const folder = workspaceFolder();
    if (!client || !folder) return;
    const { annotations } = await client.annotations();
    const byPath = new Map<string, Annotation[]>();
    for (const a of annotations) {
      if (a.resolved) continue;
      byPath.set(a.path, [...(byPath.get(a.path) ?? []), a]);
    }
    this.collection.clear();
    for (const [p, list] of byPath) {
      const uri = vscode.Uri.joinPath(folder.uri, p);
      this.collection.set(
        uri,
        list.map((a) => {
          const start = (a.lines?.start ?? 1) - 1;
          const end = (a.lines?.end ?? a.lines?.start ?? 1) - 1;
          const d = new vscode.Diagnostic(
            new vscode.Range(start, 0, end, Number.MAX_SAFE_INTEGER),
            `${a.agentId}: ${a.note}`,
            vscode.DiagnosticSeverity.Information,
          );
          d.source = 'Lighthouse';
          d.code = a.id;
          return d;
        }),
      );
    }
  }

  dispose(): void {
    this.collection.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}
