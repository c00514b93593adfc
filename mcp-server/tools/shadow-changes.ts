import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { ShadowChanges } from '../../bridge-image/protocol/index.js';
import { count, toolSuccess, withBridge } from '../tool-results.js';
import { readOnlyTool } from './annotations.js';

export const shadowChangesInput = z.object({});

export function registerShadowChanges(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'shadow_changes',
    {
      title: 'List your changes',
      description:
        'Lists the paths your shadow changes against the workspace, without their content: status ' +
        '(added, modified, deleted, moved), hashes, whether the entry is in conflict (the workspace ' +
        'changed under it, or a write was based on stale content), and which other agents change the ' +
        'same path. Use it to review what you have done, or to spot overlaps with other agents before ' +
        'handing over; shadow_diff adds the unified diffs.',
      inputSchema: shadowChangesInput,
      outputSchema: ShadowChanges,
      annotations: readOnlyTool,
    },
    (_args, extra) =>
      withBridge(client, async () => {
        const res = await client.changes({ signal: extra.signal });
        const conflicts = res.changes.filter((c) => c.conflict).map((c) => c.path);
        const shared = res.changes.filter((c) => c.alsoChangedBy.length > 0);
        let note = `${count(res.changes.length, 'changed path')} in your shadow.`;
        if (conflicts.length) note += ` In conflict: ${conflicts.join(', ')}; re-read them and check.`;
        if (shared.length)
          note += ` Also changed by other agents: ${shared.map((c) => `${c.path} (${c.alsoChangedBy.join(', ')})`).join(', ')}.`;
        return toolSuccess(res, note);
      }),
  );
}
