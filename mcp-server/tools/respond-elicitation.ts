import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { ElicitResponse, Elicitation } from '../../bridge-image/protocol/index.js';
import { ObjectId } from '../tool-inputs.js';
import { toolError, toolSuccess, withBridge } from '../tool-results.js';

export const respondElicitationInput = z.object({
  elicitation_id: ObjectId.describe('The id of a question asked of you (check_elicitation lists them).'),
  action: ElicitResponse.shape.action.describe(
    '"accept" to answer with content, "decline" to refuse to answer, "cancel" to dismiss the question.',
  ),
  content: z
    .unknown()
    .optional()
    .describe("For accept: the answer, a JSON value that must satisfy the question's schema."),
});

export function registerRespondElicitation(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'respond_elicitation',
    {
      title: 'Answer a question from another agent',
      description:
        'Answers a question another agent asked you with ask_agent: accept with content that satisfies ' +
        "the question's JSON Schema, or decline or cancel it. Content that breaks the schema is refused " +
        'with what is wrong, so fix it and retry. Use check_elicitation first to see the pending questions ' +
        'and their schemas. A question can be answered once.',
      inputSchema: respondElicitationInput,
      outputSchema: Elicitation,
      // A question is answered once; a second answer is refused.
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    (args, extra) => {
      if (args.action === 'accept' && args.content === undefined) {
        return Promise.resolve(
          toolError(
            "accept needs content: the answer, fitting the question's schema (check_elicitation shows it).",
          ),
        );
      }
      return withBridge(
        client,
        async () => {
          const el = await client.respondElicitation(
            args.elicitation_id,
            { action: args.action, ...(args.action === 'accept' ? { content: args.content } : {}) },
            extra.signal,
          );
          return toolSuccess(el, `Elicitation ${el.id} answered (${el.action}); ${el.from} can read it now.`);
        },
        {
          doneHint: 'check_elicitation with this id shows whether it is answered.',
          notFoundHint: 'check_elicitation lists the questions asked of you and their ids.',
          conflictHint: "check_elicitation with this id shows the question's schema and state.",
        },
      );
    },
  );
}
