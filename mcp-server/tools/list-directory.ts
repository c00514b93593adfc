import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { ListQuery, ShadowListing } from '../../bridge-image/protocol/index.js';
import { count, toolSuccess, withBridge } from '../tool-results.js';
import { readOnlyTool } from './annotations.js';

export const listDirectoryInput = z.object({
  path: ListQuery.shape.path.describe(
    'The directory, relative to the workspace root with "/" separators, e.g. "src"; leave it out ' +
      '(or "") for the root itself. No "..", not absolute.',
  ),
});

export function registerListDirectory(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'list_directory',
    {
      title: 'List a directory',
      description:
        'Lists the entries of one directory as your shadow of the workspace shows it (your own new, ' +
        'moved and deleted files included): name, path, file, dir or symlink (with its target), size, ' +
        'mtime, sha256, and whether it comes from your shadow or the workspace. Use it to look around ' +
        'before reading or writing; for ' +
        'several levels at once use tree, and to find files by content use search_files.',
      inputSchema: listDirectoryInput,
      outputSchema: ShadowListing,
      annotations: readOnlyTool,
    },
    (args, extra) =>
      withBridge(client, async () => {
        const listing = await client.list(args.path, { signal: extra.signal });
        const dirs = listing.entries.filter((e) => e.type === 'dir').length;
        const where = listing.path === '' ? 'the workspace root' : listing.path;
        return toolSuccess(
          listing,
          `${where}: ${count(listing.entries.length - dirs, 'file')}, ${count(dirs, 'directory', 'directories')}.`,
        );
      }),
  );
}
