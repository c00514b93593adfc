import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { AnnotationList, AnnotationQuery } from '../../bridge-image/protocol/index.js';
import { count, toolSuccess, withBridge } from '../tool-results.js';
import { readOnlyTool } from './annotations.js';

export const listAnnotationsInput = z.object({
  path: AnnotationQuery.shape.path.describe(
    'Only notes on this exact path (relative to the workspace root, e.g. "src/index.ts"); leave it out for all.',
  ),
  include_resolved: z.boolean().default(false).describe('Also list notes that were resolved.'),
});

export function registerListAnnotations(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'list_annotations',
    {
      title: 'List annotations',
      description:
        'Lists the notes that agents and the developer attached to paths (and line ranges): who wrote ' +
        'what, when, and whether it was resolved. Use it before working on a file, to learn warnings, ' +
        'open questions or requests about it, and to find the ids to resolve. Open notes only, unless ' +
        'include_resolved is true.',
      inputSchema: listAnnotationsInput,
      outputSchema: AnnotationList,
      annotations: readOnlyTool,
    },
    (args, extra) =>
      withBridge(client, async () => {
        const res = await client.annotations({
          path: args.path,
          includeResolved: args.include_resolved,
          signal: extra.signal,
        });
        const where = args.path === undefined ? '' : ` on ${args.path}`;
        return toolSuccess(
          res,
          `${count(res.annotations.length, args.include_resolved ? 'annotation' : 'open annotation')}${where}.`,
        );
      }),
  );
}
