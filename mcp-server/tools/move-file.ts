import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { BridgeError } from '../../bridge-image/protocol/index.js';
import { pathInput } from '../tool-inputs.js';
import { toolError, toolSuccess, withBridge } from '../tool-results.js';

export const moveFileInput = z.object({
  from: pathInput('The file to move or rename'),
  to: pathInput('Its new path, including the file name; missing parent directories are created'),
  overwrite: z
    .boolean()
    .default(false)
    .describe('Replace a file that already exists at `to`. Without it, an existing `to` is refused.'),
});

export const moveFileOutput = z.object({
  from: z.string(),
  to: z.string(),
  seq: z.number().int().describe('The event that recorded the move.'),
  replaced: z.boolean().describe('A file that was at `to` was replaced.'),
});

export function registerMoveFile(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'move_file',
    {
      title: 'Move or rename a file',
      description:
        'Moves or renames one file in your shadow of the workspace (directories cannot be moved; move ' +
        'their files one by one). The move keeps the file content and shows in shadow_changes as ' +
        '"moved"; the workspace on disk is untouched until the developer applies it. An existing file at ' +
        'the destination is only replaced with overwrite: true. Refused while another agent holds an ' +
        'exclusive lease on either path.',
      inputSchema: moveFileInput,
      outputSchema: moveFileOutput,
      // With overwrite it replaces a file; a repeated call finds `from` gone and changes nothing more.
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
          let existing: 'file' | 'dir' | 'symlink' | undefined;
          try {
            existing = (await client.stat(args.to, { signal: extra.signal })).type;
          } catch (e) {
            if (!(e instanceof BridgeError && e.code === 'ENOENT')) throw e;
          }
          if (existing === 'dir') {
            return toolError(
              `${args.to} is a directory. Give the full new path of the file, e.g. "${args.to}/${args.from.split('/').pop()}".`,
            );
          }
          if (existing === 'file' && !args.overwrite) {
            return toolError(
              `${args.to} already exists, so nothing was moved. Choose another destination, or pass overwrite: true to replace it.`,
            );
          }
          const res = await client.move(args.from, args.to, extra.signal);
          const value: z.infer<typeof moveFileOutput> = {
            from: String(res.from ?? args.from),
            to: String(res.to ?? args.to),
            seq: res.seq,
            replaced: existing === 'file',
          };
          return toolSuccess(
            value,
            `Moved ${value.from} to ${value.to} in your shadow (event ${value.seq})${value.replaced ? ', replacing the file that was there' : ''}.`,
          );
        },
        { doneHint: 'shadow_changes shows where the file is now.' },
      ),
  );
}
