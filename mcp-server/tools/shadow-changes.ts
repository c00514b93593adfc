import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient, ShadowChange } from '../../bridge-image/protocol/index.js';
import { ShadowChanges } from '../../bridge-image/protocol/index.js';
import { toolText, withBridge } from '../tool-results.js';
import { readOnlyTool } from './annotations.js';
import { pageFields, pageNote, pagingArgs } from './change-paging.js';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 200;
/**
 * The JSON bytes of the changes one answer holds at most: the page is cut short (and its cursor moved
 * back) rather than go over, whatever the paths' lengths. With the text listing beside it, an answer
 * stays far below the ~50 KB some clients refuse.
 */
export const CHANGES_ANSWER_BYTES = 24 * 1024;

export const shadowChangesInput = z.object(pagingArgs(DEFAULT_LIMIT, MAX_LIMIT));
export const shadowChangesOutput = ShadowChanges.extend(pageFields);

const LETTER: Record<ShadowChange['status'], string> = {
  added: 'A',
  modified: 'M',
  deleted: 'D',
  moved: 'R',
};

function line(c: ShadowChange): string {
  const notes: string[] = [];
  if (c.movedFrom) notes.push(`from ${c.movedFrom}`);
  if (c.conflict) notes.push('CONFLICT');
  if (c.alsoChangedBy.length) notes.push(`also changed by ${c.alsoChangedBy.join(', ')}`);
  return `${LETTER[c.status]} ${c.path}${notes.length ? ` (${notes.join('; ')})` : ''}`;
}

export function registerShadowChanges(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'shadow_changes',
    {
      title: 'List your changes',
      description:
        'Lists the paths your shadow changes against the workspace, without their content, ordered by ' +
        'path, a page at a time: status (added, modified, deleted, moved), hashes, whether the entry is ' +
        'in conflict (the workspace changed under it, or a write was based on stale content), and which ' +
        'other agents change the same path. The answer says how many changes there are in all and, when ' +
        'more follow, the cursor to pass for the next page. Use it to review what you have done, or to ' +
        'spot overlaps with other agents before handing over; shadow_diff adds the unified diffs.',
      inputSchema: shadowChangesInput,
      outputSchema: shadowChangesOutput,
      annotations: readOnlyTool,
    },
    (args, extra) =>
      withBridge(
        client,
        async () => {
          const res = await client.changes({
            limit: args.limit ?? DEFAULT_LIMIT,
            cursor: args.cursor,
            prefix: args.path,
            signal: extra.signal,
          });
          // Long paths could still make a page large: keep what fits, and page on from there.
          const kept: ShadowChange[] = [];
          let bytes = 0;
          for (const c of res.changes) {
            bytes += JSON.stringify(c).length;
            if (kept.length > 0 && bytes > CHANGES_ANSWER_BYTES) break;
            kept.push(c);
          }
          const nextCursor = kept.length < res.changes.length ? kept[kept.length - 1]!.path : res.nextCursor;
          let note = pageNote({
            tool: 'shadow_changes',
            noun: 'changed path',
            total: res.total,
            conflicts: res.conflicts,
            shown: kept.length,
            first: kept[0]?.path,
            last: kept[kept.length - 1]?.path,
            nextCursor,
            path: args.path,
          });
          if (kept.some((c) => c.conflict)) note += ' Re-read the paths in conflict and check them.';
          const value = { ...res, changes: kept, nextCursor, shown: kept.length, note };
          return toolText(value, [...kept.map(line), note].join('\n'));
        },
        { conflictHint: 'Start again without cursor for the first page.' },
      ),
  );
}
