import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { ReviewList, ReviewState } from '../../bridge-image/protocol/index.js';
import { count, toolSuccess, withBridge } from '../tool-results.js';
import { readOnlyTool } from './annotations.js';

export const listReviewsInput = z.object({
  state: ReviewState.optional().describe(
    'Only reviews in this state: "pending-expert" (waiting for an expert such as you), ' +
      '"pending-developer", "answered" or "expired". Leave it out for all.',
  ),
});

export function registerListReviews(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'list_reviews',
    {
      title: 'List reviews',
      description:
        'Lists the escalated validations (reviews): commands or edits that validate answered with ' +
        '"escalate", waiting for an expert or the developer, or already decided. Use it as an expert to ' +
        'find the pending-expert reviews to answer with answer_review, or as any agent to see how your ' +
        'escalated requests were decided (wait_for_review waits for one).',
      inputSchema: listReviewsInput,
      outputSchema: ReviewList,
      annotations: readOnlyTool,
    },
    (args, extra) =>
      withBridge(client, async () => {
        const res = await client.reviews(args.state, extra.signal);
        return toolSuccess(
          res,
          `${count(res.reviews.length, 'review')}${args.state ? ` ${args.state}` : ''}.`,
        );
      }),
  );
}
