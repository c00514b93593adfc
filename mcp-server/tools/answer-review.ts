import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { Review, ReviewAnswer } from '../../bridge-image/protocol/index.js';
import { ObjectId } from '../tool-inputs.js';
import { toolSuccess, withBridge } from '../tool-results.js';

export const answerReviewInput = z.object({
  review_id: ObjectId.describe('The id of a pending-expert review, as list_reviews returned it.'),
  decision: ReviewAnswer.shape.decision.describe('"approved" lets the command run; "blocked" refuses it.'),
  reason: ReviewAnswer.shape.reason.describe('Why, for the agent that asked and for the record.'),
});

export function registerAnswerReview(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'answer_review',
    {
      title: 'Answer a review (experts)',
      description:
        'Decides an escalated validation as an expert: approve or block the command or edit, with a ' +
        'reason the asking agent reads. Only for experts: the developer must have named you expert with ' +
        'the capability the review needs ("shell" or "files"), this MCP server must run with --role ' +
        'expert, the review must not be your own, and it must still wait for an expert (list_reviews ' +
        'with state "pending-expert" shows them).',
      inputSchema: answerReviewInput,
      outputSchema: Review,
      // A review is answered once; a second answer is refused.
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
          const r = await client.answerReview(
            args.review_id,
            { decision: args.decision, reason: args.reason },
            extra.signal,
          );
          return toolSuccess(r, `Review ${r.id} answered: ${r.decision}. ${r.agentId} is told.`);
        },
        {
          doneHint: 'list_reviews shows how it was decided.',
          notFoundHint: 'list_reviews shows the reviews and their ids.',
          forbiddenHint:
            'Only experts answer reviews: the developer must have named this agent expert with the ' +
            'capability the review needs (VS Code: "Lighthouse: Name Expert Agent…"), the MCP server must ' +
            'run with --role expert, nobody answers a review of their own command, and the review must ' +
            'still be pending-expert; the developer answers the others in VS Code.',
          conflictHint: 'list_reviews shows how it was decided.',
        },
      ),
  );
}
