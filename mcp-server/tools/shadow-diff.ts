import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { ShadowDiff } from '../../bridge-image/protocol/index.js';
import { toolText, withBridge } from '../tool-results.js';
import { readOnlyTool } from './annotations.js';
import { pageFields, pageNote, pagingArgs } from './change-paging.js';

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 50;
/**
 * The patch bytes one answer holds at most (a longer patch is cut, the page ends early): the text
 * and structuredContent each carry them once, so an answer stays far below ~50 KB.
 */
export const DIFF_ANSWER_BYTES = 12 * 1024;

export const shadowDiffInput = z.object(pagingArgs(DEFAULT_LIMIT, MAX_LIMIT));
export const shadowDiffOutput = ShadowDiff.extend(pageFields);

function render(diff: ShadowDiff, note: string): string {
  const parts = diff.files.map((f) => {
    const head = `${f.path} (${f.status}${f.conflict ? ', CONFLICT' : ''})`;
    if (f.binary) return `${head}: binary, not diffed`;
    return `${head}\n${f.patch ?? ''}${f.truncated ? `\n[patch cut at ${diff.patchLimit} bytes: read_file shows the whole file]\n` : ''}`;
  });
  return [...parts, note].join('\n');
}

export function registerShadowDiff(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'shadow_diff',
    {
      title: 'Diff your changes',
      description:
        'Shows your changes against the workspace as unified diffs (like git diff), ordered by path, a ' +
        'page at a time: every file you added, modified, deleted or moved in your shadow, with conflicts ' +
        'marked; binary files are listed but not diffed, and a very long patch is cut (marked ' +
        'truncated). The answer says how many changed files there are in all and, when more follow, the ' +
        'cursor to pass for the next page. Use it to review your work before saying it is done, or to ' +
        'remind yourself what you changed. shadow_changes lists the same paths without content.',
      inputSchema: shadowDiffInput,
      outputSchema: shadowDiffOutput,
      annotations: readOnlyTool,
    },
    (args, extra) =>
      withBridge(
        client,
        async () => {
          const diff = await client.diff({
            limit: args.limit ?? DEFAULT_LIMIT,
            cursor: args.cursor,
            prefix: args.path,
            maxBytes: DIFF_ANSWER_BYTES,
            signal: extra.signal,
          });
          let note = pageNote({
            tool: 'shadow_diff',
            noun: 'changed file',
            total: diff.total,
            conflicts: diff.conflicts,
            shown: diff.files.length,
            first: diff.files[0]?.path,
            last: diff.files[diff.files.length - 1]?.path,
            nextCursor: diff.nextCursor,
            path: args.path,
          });
          const cut = diff.files.filter((f) => f.truncated).length;
          if (cut) note += ` ${cut} patch${cut === 1 ? ' was' : 'es were'} cut at ${diff.patchLimit} bytes.`;
          const value = { ...diff, shown: diff.files.length, note };
          return toolText(value, render(diff, note));
        },
        { conflictHint: 'Start again without cursor for the first page.' },
      ),
  );
}
