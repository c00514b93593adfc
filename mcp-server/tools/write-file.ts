import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient, ShadowWriteResult } from '../../bridge-image/protocol/index.js';
import { ShadowWriteResult as WriteResult, WriteQuery } from '../../bridge-image/protocol/index.js';
import { pathInput } from '../tool-inputs.js';
import { toolSuccess, withBridge } from '../tool-results.js';

export const writeFileInput = z.object({
  path: pathInput('The file to create or overwrite; missing parent directories are created'),
  content: z.string().describe('The complete new content of the file, as text (UTF-8).'),
  if_match: WriteQuery.shape.ifMatch.describe(
    'The sha256 of the content you based this write on (read_file returns it), or "absent" if you ' +
      'expect the file not to exist. If the file changed since, the write is still stored but marked as ' +
      'a conflict, and the result says so. Leave it out to write unconditionally.',
  ),
});

/** What a write result tells the model besides the JSON, conflict first. */
export function writeNote(res: ShadowWriteResult, what: string): string {
  const done = `${what} ${res.path} in your shadow: ${res.size} bytes, sha256 ${res.hash} (event ${res.seq}).`;
  if (!res.conflict) return done;
  return (
    `${done} CONFLICT: the file no longer held the content this write was based on (it changed ` +
    'in your shadow or in the workspace since you read it), so your write replaced a version you had ' +
    'not seen, and the change is marked as a conflict for the developer. Read the file again ' +
    '(read_file), check that nothing was lost, and fix it if needed.'
  );
}

export function registerWriteFile(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'write_file',
    {
      title: 'Write a file',
      description:
        'Creates a file or replaces its whole content in your shadow of the workspace, the copy-on-write ' +
        'view where your changes live until the developer applies them (the workspace on disk is not ' +
        'touched). Use it for new files and complete rewrites; for changing part of a file, edit_file is ' +
        'safer. Pass if_match (the hash from read_file) to learn whether the file changed since you read ' +
        'it. Refused while another agent holds an exclusive lease on the path; the error names the holder.',
      inputSchema: writeFileInput,
      outputSchema: WriteResult,
      // Replaces content (destructive); a repeated call with if_match would be flagged as a conflict.
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    (args, extra) =>
      withBridge(
        client,
        async () => {
          const res = await client.writeFile(args.path, args.content, {
            ifMatch: args.if_match,
            signal: extra.signal,
          });
          return toolSuccess(res, writeNote(res, 'Wrote'));
        },
        { doneHint: 'read_file shows whether the file has the new content.' },
      ),
  );
}
