import * as vscode from 'vscode';
import { NO_FILTER } from '../model/event-log.js';
import type { EventNode } from '../tree/event-log-tree.js';
import { command, type CommandContext } from './context.js';

export const EVENT_SCHEME = 'lighthouse-event';

/** Event Log commands: filter by type and agent, open an event's JSON, export, page. */
export function registerEventLogCommands(ctx: CommandContext): vscode.Disposable[] {
  const tree = ctx.trees.events;
  const opened = new Map<string, string>();
  return [
    vscode.workspace.registerTextDocumentContentProvider(EVENT_SCHEME, {
      provideTextDocumentContent: (uri) => opened.get(uri.path) ?? '{}',
    }),
    command(ctx, 'lighthouse.filterEvents', async (filter?: { types?: string[]; agent?: string }) => {
      if (filter) {
        tree.setFilter({ types: filter.types ?? [], agent: filter.agent });
        return;
      }
      const { types, agents } = tree.model.facets();
      // Offer families ("shadow.") and exact types, families first.
      const families = [...new Set(types.map((t) => `${t.split('.')[0]}.`))];
      const current = tree.model.filter;
      const picked = await vscode.window.showQuickPick(
        [...families, ...types].map((t) => ({ label: t, picked: current.types.includes(t) })),
        {
          canPickMany: true,
          title: 'Show these event types (none: all)',
          placeHolder: 'shadow., review., security.…',
        },
      );
      if (!picked) return;
      const agent = await vscode.window.showQuickPick(['(every agent)', ...agents], {
        title: 'Show events of one agent',
      });
      if (agent === undefined) return;
      tree.setFilter({
        types: picked.map((p) => p.label),
        agent: agent === '(every agent)' ? undefined : agent,
      });
    }),
    command(ctx, 'lighthouse.clearEventFilter', () => tree.setFilter(NO_FILTER)),
    command(ctx, 'lighthouse.showMoreEvents', () => tree.showMore()),
    command(ctx, 'lighthouse.openEvent', async (node: EventNode) => {
      if (!node || node.kind !== 'event') throw new Error('pick an event in the Event Log');
      const e = node.event;
      const key = `/event-${e.seq}.json`;
      opened.set(key, `${JSON.stringify(e, null, 2)}\n`);
      const doc = await vscode.workspace.openTextDocument(
        vscode.Uri.from({ scheme: EVENT_SCHEME, path: key }),
      );
      await vscode.languages.setTextDocumentLanguage(doc, 'json');
      await vscode.window.showTextDocument(doc, { preview: true });
    }),
    command(ctx, 'lighthouse.exportEvents', async (target?: vscode.Uri) => {
      const events = tree.model.all();
      if (!events.length) throw new Error('the Event Log is empty (or nothing passes its filter)');
      const uri =
        target ??
        (await vscode.window.showSaveDialog({
          title: `Export ${events.length} events as JSON Lines`,
          filters: { 'JSON Lines': ['jsonl'] },
          defaultUri: vscode.Uri.file(`lighthouse-events-${new Date().toISOString().slice(0, 10)}.jsonl`),
        }));
      if (!uri) return;
      const text = events.map((e) => JSON.stringify(e)).join('\n') + '\n';
      await vscode.workspace.fs.writeFile(uri, Buffer.from(text, 'utf8'));
      void vscode.window.setStatusBarMessage(`Lighthouse: exported ${events.length} events`, 5000);
      return uri;
    }),
  ];
}
