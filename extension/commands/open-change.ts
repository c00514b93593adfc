import * as vscode from 'vscode';
import { currentPath, SCHEME } from '../fs/lighthouse-uri.js';
import { shadowUri, type ShadowNode } from '../tree/shadow-tree.js';
import { command, type CommandContext } from './context.js';

export const EMPTY_SCHEME = 'lighthouse-empty';

/** Opens a changed file as a diff: the workspace as it is on the left, the agent's shadow on the right. */
export function registerOpenChange(ctx: CommandContext): vscode.Disposable[] {
  return [
    vscode.workspace.registerTextDocumentContentProvider(EMPTY_SCHEME, {
      provideTextDocumentContent: () => '',
    }),
    // The Shadow Files "Show more…" row of an agent with more changes than it shows.
    command(ctx, 'lighthouse.showMoreChanges', (node: ShadowNode) => ctx.trees.shadow.showMore(node)),
    command(ctx, 'lighthouse.openChange', async (node: ShadowNode) => {
      if (!node || node.kind !== 'file') throw new Error('pick a changed file in the Shadow Files view');
      const c = node.change;
      const empty = vscode.Uri.from({ scheme: EMPTY_SCHEME, path: `/${c.path}` });
      const before =
        c.status === 'added'
          ? empty
          : vscode.Uri.from({ scheme: SCHEME, path: currentPath(c.movedFrom ?? c.path) });
      const after = c.status === 'deleted' ? empty : shadowUri(node.agentId, c.path);
      await vscode.commands.executeCommand(
        'vscode.diff',
        before,
        after,
        `${c.path} (workspace ↔ ${node.agentId}${c.conflict ? ', conflict' : ''})`,
        { preview: true },
      );
    }),
  ];
}
