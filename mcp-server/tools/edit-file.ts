import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { ShadowWriteResult } from '../../bridge-image/protocol/index.js';
import { isBinary, sha256 } from '../file-content.js';
import { pathInput } from '../tool-inputs.js';
import { count, toolError, toolSuccess, withBridge } from '../tool-results.js';
import { writeNote } from './write-file.js';

export const editFileInput = z.object({
  path: pathInput('The file to edit'),
  old_string: z
    .string()
    .min(1, 'old_string must not be empty; use write_file to create a file')
    .describe(
      'The exact text to replace, character for character, including whitespace and indentation. ' +
        'It must occur exactly once in the file unless replace_all is true: include enough surrounding ' +
        'lines to make it unique.',
    ),
  new_string: z.string().describe('The text to put in its place (empty to delete old_string).'),
  replace_all: z
    .boolean()
    .default(false)
    .describe('Replace every occurrence of old_string instead of requiring exactly one (e.g. a rename).'),
});

export const editFileOutput = ShadowWriteResult.extend({
  replacements: z.number().int().describe('How many occurrences of old_string were replaced.'),
});

/** Occurrences of `needle` in `haystack`, not overlapping, as a left-to-right replacement would see them. */
function countOccurrences(haystack: string, needle: string): number {
  let n = 0;
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + needle.length)) n++;
  return n;
}

export function registerEditFile(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'edit_file',
    {
      title: 'Edit a file',
      description:
        'Changes part of a text file in your shadow of the workspace by exact string replacement: ' +
        'old_string must match exactly once (or set replace_all to replace every occurrence). Use it for ' +
        'targeted changes instead of rewriting the whole file with write_file; read_file first to copy ' +
        'old_string exactly. If the file changes between the read and the write, the result reports a ' +
        'conflict. Refused while another agent holds an exclusive lease on the path.',
      inputSchema: editFileInput,
      outputSchema: editFileOutput,
      // Not idempotent: a second identical call no longer finds old_string (or, with replace_all,
      // replaces again when new_string contains it).
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
          if (args.old_string === args.new_string) {
            return toolError('old_string and new_string are the same, so there is nothing to change.');
          }
          const data = await client.readFile(args.path, { signal: extra.signal });
          if (isBinary(data)) {
            return toolError(
              `${args.path} is binary (${data.length} bytes), so it cannot be edited as text; use write_file to replace it.`,
            );
          }
          const text = data.toString('utf8');
          const found = countOccurrences(text, args.old_string);
          if (found === 0) {
            return toolError(
              `old_string was not found in ${args.path}, so nothing was changed. It must match the file ` +
                'exactly, including whitespace, indentation and line endings; read_file shows the current text.',
            );
          }
          if (found > 1 && !args.replace_all) {
            return toolError(
              `old_string occurs ${found} times in ${args.path}, so nothing was changed. Include more ` +
                'surrounding text to make it unique, or set replace_all to true to replace every occurrence.',
            );
          }
          // split/join, not String.replace: new_string is literal text, and "$&" in it must stay "$&".
          const edited = text.split(args.old_string).join(args.new_string);
          // The hash of what was read: the bridge flags the write as a conflict if the file changed since.
          const res = await client.writeFile(args.path, edited, {
            ifMatch: sha256(data),
            signal: extra.signal,
          });
          const value: z.infer<typeof editFileOutput> = { ...res, replacements: found };
          return toolSuccess(value, writeNote(res, `Replaced ${count(found, 'occurrence')} in`));
        },
        { doneHint: 'read_file shows whether the file has the edit.' },
      ),
  );
}
