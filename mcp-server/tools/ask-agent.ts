import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { ElicitRequest, Elicitation } from '../../bridge-image/protocol/index.js';
import { toolSuccess, withBridge } from '../tool-results.js';

const field = ElicitRequest.shape;

export const askAgentInput = z.object({
  to: field.to.describe('The agent you ask, by id, e.g. "claude-2" (list_agents shows them).'),
  question: field.question.describe('The question, with the context the other agent needs to answer it.'),
  schema: field.schema.describe(
    'A JSON Schema the answer must satisfy, e.g. {"type": "object", "properties": {"approve": {"type": ' +
      '"boolean"}}, "required": ["approve"]}. Answers that break it are refused.',
  ),
  ttl_ms: field.ttlMs.describe(
    'How long the question stays open, in milliseconds (default 3600000, one hour; at least 1000).',
  ),
});

export function registerAskAgent(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'ask_agent',
    {
      title: 'Ask another agent a question',
      description:
        'Asks another agent a question whose answer must fit a JSON Schema (an elicitation), e.g. a ' +
        "decision, a value or a choice you need before going on. It returns at once with the question's " +
        'id; the other agent answers with respond_elicitation, and you read the answer (or whether it was ' +
        'declined or expired) with check_elicitation. For information that needs no answer use send_message.',
      inputSchema: askAgentInput,
      outputSchema: Elicitation,
      // Every call asks a new question.
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
          const el = await client.elicit(
            { to: args.to, question: args.question, schema: args.schema, ttlMs: args.ttl_ms },
            extra.signal,
          );
          return toolSuccess(
            el,
            `Asked ${el.to} (elicitation ${el.id}, open until ${el.expiresAt}). ` +
              `Call check_elicitation with elicitation_id "${el.id}" later to read the answer.`,
          );
        },
        { doneHint: 'check_elicitation without an id lists the questions you asked.' },
      ),
  );
}
