import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { ShadowDiff, WorkspacePath } from '../../bridge-image/protocol/index.js';
import { count, toolText, withBridge } from '../tool-results.js';
import { readOnlyTool } from './annotations.js';

export const shadowDiffInput = z.object({
  path: WorkspacePath.optional().describe(
    'Only this file, or the files under this directory (relative to the workspace root, e.g. "src"). ' +
      'Leave it out for all your changes.',
  ),
});

/** Whether `path` is `filter` or lies under it. */
function under(path: string, filter: string): boolean {
  const f = filter.replace(/^\.\/+/, '').replace(/\/+$/, '');
  return f === '' || path === f || path.startsWith(`${f}/`);
}

function render(diff: ShadowDiff): string {
  if (diff.files.length === 0) return 'No changes: your shadow matches the workspace.';
  const parts = diff.files.map((f) => {
    const head = `${f.path} (${f.status}${f.conflict ? ', CONFLICT' : ''})`;
    if (f.binary) return `${head}: binary, not diffed`;
    return `${head}\n${f.patch ?? ''}`;
  });
  const conflicts = diff.files.filter((f) => f.conflict).length;
  const summary =
    `${count(diff.files.length, 'changed file')}` +
    (conflicts ? `, ${conflicts} in conflict (the workspace changed under them or a write was stale)` : '');
  return `${parts.join('\n')}\n${summary}.`;
}

export function registerShadowDiff(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'shadow_diff',
    {
      title: 'Diff your changes',
      description:
        'Shows your changes against the workspace as unified diffs (like git diff): every file you ' +
        'added, modified, deleted or moved in your shadow, with conflicts marked; binary files are ' +
        'listed but not diffed. Use it to review your work before saying it is done, or to remind ' +
        'yourself what you changed. shadow_changes lists the same paths without content.',
      inputSchema: shadowDiffInput,
      outputSchema: ShadowDiff,
      annotations: readOnlyTool,
    },
    (args, extra) =>
      withBridge(client, async () => {
        const diff = await client.diff({ signal: extra.signal });
        const filter = args.path;
        const value: ShadowDiff =
          filter === undefined ? diff : { ...diff, files: diff.files.filter((f) => under(f.path, filter)) };
        return toolText(value, render(value));
      }),
  );
}
