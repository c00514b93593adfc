import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { BridgeError, FileType } from '../../bridge-image/protocol/index.js';
import { pathInput } from '../tool-inputs.js';
import { toolSuccess, withBridge } from '../tool-results.js';

export const deleteFileInput = z.object({
  path: pathInput('The file (or empty directory) to delete'),
});

export const deleteFileOutput = z.object({
  path: z.string(),
  type: FileType.describe('What was deleted: a file, or an empty directory.'),
  seq: z.number().int().describe('The event that recorded the deletion.'),
});

export function registerDeleteFile(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'delete_file',
    {
      title: 'Delete a file',
      description:
        'Deletes a file, or an empty directory, in your shadow of the workspace. The workspace on disk ' +
        'is not touched: the deletion is one of your changes, shown by shadow_changes and shadow_diff ' +
        'until the developer applies or discards it. Use it when your work removes a file; to rename, ' +
        'use move_file. Refused while another agent holds an exclusive lease on the path.',
      inputSchema: deleteFileInput,
      outputSchema: deleteFileOutput,
      // Removes content; a second call finds nothing to delete and changes nothing more.
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    (args, extra) =>
      withBridge(
        client,
        async () => {
          let value: z.infer<typeof deleteFileOutput>;
          try {
            const res = await client.deleteFile(args.path, extra.signal);
            value = { path: String(res.path ?? args.path), type: 'file', seq: res.seq };
          } catch (e) {
            // A directory: remove it if it is empty (the bridge refuses with ENOTEMPTY otherwise).
            if (!(e instanceof BridgeError && e.code === 'EISDIR')) throw e;
            const res = await client.rmdir(args.path, extra.signal);
            value = { path: String(res.path ?? args.path), type: 'dir', seq: res.seq };
          }
          const what = value.type === 'dir' ? 'the empty directory' : '';
          return toolSuccess(
            value,
            `Deleted ${what ? `${what} ` : ''}${value.path} in your shadow (event ${value.seq}); the workspace is unchanged until the developer applies it.`,
          );
        },
        { doneHint: 'list_directory shows whether it is gone.' },
      ),
  );
}
