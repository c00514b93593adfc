import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { Annotation } from '../../bridge-image/protocol/index.js';
import { ObjectId } from '../tool-inputs.js';
import { toolSuccess, withBridge } from '../tool-results.js';

export const resolveAnnotationInput = z.object({
  annotation_id: ObjectId.describe('The id of the note, as add_annotation or list_annotations returned it.'),
});

export function registerResolveAnnotation(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'resolve_annotation',
    {
      title: 'Resolve an annotation',
      description:
        'Marks a note as resolved (recording who resolved it and when), so that it no longer shows among ' +
        'the open annotations. Use it once the finding, question or request in the note has been dealt ' +
        'with; the note itself stays in the history.',
      inputSchema: resolveAnnotationInput,
      outputSchema: Annotation,
      // Resolving a resolved note leaves it as it was.
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    (args, extra) =>
      withBridge(
        client,
        async () => {
          const a = await client.resolveAnnotation(args.annotation_id, extra.signal);
          return toolSuccess(a, `Annotation ${a.id} on ${a.path} is resolved (by ${a.resolvedBy}).`);
        },
        {
          notFoundHint: 'list_annotations (with include_resolved: true) shows the notes and their ids.',
          doneHint: 'list_annotations (with include_resolved: true) shows whether the note is resolved.',
        },
      ),
  );
}
