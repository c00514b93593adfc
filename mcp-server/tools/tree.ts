import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { FileType, ListQuery } from '../../bridge-image/protocol/index.js';
import { comparePaths, UNENTERED_DIRS, walkShadow, type WalkEntry } from '../shadow-walk.js';
import { count, toolText, withBridge } from '../tool-results.js';
import { readOnlyTool } from './annotations.js';

export const MAX_TREE_DEPTH = 20;
export const MAX_TREE_ENTRIES = 5000;

export const treeInput = z.object({
  path: ListQuery.shape.path.describe(
    'The directory to start from, relative to the workspace root, e.g. "src"; leave it out for the ' +
      'whole workspace. No "..", not absolute.',
  ),
  depth: z
    .number()
    .int()
    .min(1)
    .max(MAX_TREE_DEPTH)
    .default(3)
    .describe('How many levels to show: 1 is the directory itself, 2 adds its subdirectories, and so on.'),
  max_entries: z
    .number()
    .int()
    .min(1)
    .max(MAX_TREE_ENTRIES)
    .default(500)
    .describe('Stop after this many entries; the shallowest levels are shown first.'),
});

export const treeOutput = z.object({
  path: z.string(),
  depth: z.number().int(),
  entries: z.array(
    z.object({
      path: z.string(),
      type: FileType,
      size: z.number().int(),
      depth: z.number().int(),
    }),
  ),
  /** Stopped at max_entries: there is more within the depth. */
  truncated: z.boolean(),
});

/** Indented lines, directories with a trailing "/", each directory's entries under it. */
function render(entries: WalkEntry[], opts: { depth: number; root: string }): string {
  const lines: string[] = [opts.root === '' ? './' : `${opts.root}/`];
  for (const e of entries) {
    const indent = '  '.repeat(e.depth);
    if (e.type === 'file') lines.push(`${indent}${e.name} (${e.size} B)`);
    else {
      const why =
        UNENTERED_DIRS.has(e.name) && e.depth < opts.depth
          ? ' (not expanded)'
          : e.depth === opts.depth
            ? ' …'
            : '';
      lines.push(`${indent}${e.name}/${why}`);
    }
  }
  return lines.join('\n');
}

export function registerTree(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'tree',
    {
      title: 'Directory tree',
      description:
        'Shows the files and directories under a directory, several levels deep, as your shadow of the ' +
        'workspace shows them, as an indented tree with sizes. Use it to get the layout of a project or ' +
        'a subtree in one call; list_directory gives the details of one directory. Limited by depth ' +
        'and max_entries (shallow levels first); .git and node_modules are listed but not expanded. A ' +
        'directory ending in "…" has more below the depth limit: call tree on it.',
      inputSchema: treeInput,
      outputSchema: treeOutput,
      annotations: readOnlyTool,
    },
    (args, extra) =>
      withBridge(client, async () => {
        const entries: WalkEntry[] = [];
        const complete = await walkShadow(client, args.path, {
          maxDepth: args.depth,
          signal: extra.signal,
          skipDir: (e) => UNENTERED_DIRS.has(e.name),
          visit: (e) => {
            if (entries.length >= args.max_entries) return false;
            entries.push(e);
            return true;
          },
        });
        entries.sort((a, b) => comparePaths(a.path, b.path));
        const root = args.path
          .split('/')
          .filter((s) => s !== '' && s !== '.')
          .join('/');
        const value: z.infer<typeof treeOutput> = {
          path: root,
          depth: args.depth,
          entries: entries.map(({ path, type, size, depth }) => ({ path, type, size, depth })),
          truncated: !complete,
        };
        const files = entries.filter((e) => e.type === 'file').length;
        const summary =
          `${count(files, 'file')}, ${count(entries.length - files, 'directory', 'directories')}` +
          (complete ? '.' : `; stopped at max_entries ${args.max_entries}, so deeper entries are missing.`);
        return toolText(value, `${render(entries, { depth: args.depth, root })}\n\n${summary}`);
      }),
  );
}
