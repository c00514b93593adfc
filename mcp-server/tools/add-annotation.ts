import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { Annotation, AnnotationRequest, LineRange } from '../../bridge-image/protocol/index.js';
import { pathInput } from '../tool-inputs.js';
import { toolSuccess, withBridge } from '../tool-results.js';

const line = LineRange.shape.start;

export const addAnnotationInput = z
  .object({
    path: pathInput('The file (or directory) the note is about'),
    note: AnnotationRequest.shape.note.describe(
      'The note, for the developer and the other agents: a finding, a warning, a question, a TODO.',
    ),
    start_line: line.optional().describe('First line the note is about, counting from 1 (optional).'),
    end_line: line
      .optional()
      .describe('Last line the note is about (inclusive); leave out for a single line. Needs start_line.'),
  })
  .refine((a) => a.end_line === undefined || a.start_line !== undefined, {
    message: 'end_line needs start_line',
    path: ['start_line'],
  })
  .refine((a) => a.end_line === undefined || a.start_line === undefined || a.end_line >= a.start_line, {
    message: 'end_line must not be before start_line',
    path: ['end_line'],
  });

export function registerAddAnnotation(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'add_annotation',
    {
      title: 'Annotate a file',
      description:
        'Attaches a note to a path, optionally to a line range, where the developer (in VS Code) and ' +
        'the other agents see it: a review finding, a warning ("do not change this signature, X depends ' +
        'on it"), an open question, or a request to another agent. Use it to leave information tied to ' +
        'code rather than to the conversation; list_annotations reads them, resolve_annotation closes one.',
      inputSchema: addAnnotationInput,
      outputSchema: Annotation,
      // Each call adds another note.
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    (args, extra) =>
      withBridge(
        client,
        async () => {
          const lines =
            args.start_line === undefined
              ? undefined
              : { start: args.start_line, end: args.end_line ?? args.start_line };
          const a = await client.annotate({ path: args.path, note: args.note, lines }, extra.signal);
          const where = a.lines ? `${a.path}:${a.lines.start}-${a.lines.end}` : a.path;
          return toolSuccess(a, `Annotation ${a.id} added on ${where}.`);
        },
        { doneHint: 'list_annotations on the path shows whether the note is there.' },
      ),
  );
}
