import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { Review } from '../../bridge-image/protocol/index.js';
import { ObjectId } from '../tool-inputs.js';
import { toolSuccess, withBridge } from '../tool-results.js';
import { readOnlyTool } from './annotations.js';

export const waitForReviewInput = z.object({
  review_id: ObjectId.describe('The review id that validate returned with "escalate".'),
  wait_ms: z
    .number()
    .int()
    .min(0)
    .max(60_000)
    .default(30_000)
    .describe(
      'How long to wait for the decision, in milliseconds (default 30000, at most 60000; 0 just looks).',
    ),
});

export function registerWaitForReview(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'wait_for_review',
    {
      title: 'Wait for a review',
      description:
        "Waits until an escalated validation is decided (by an expert, the developer, or the policy's " +
        'default when no one answers in time), or until wait_ms passes, and returns the review. Use it ' +
        'after validate answered "escalate": run the command only if the decision is "approved". If it is ' +
        'still pending when this returns, call it again.',
      inputSchema: waitForReviewInput,
      outputSchema: Review,
      annotations: readOnlyTool,
    },
    (args, extra) =>
      withBridge(
        client,
        async () => {
          const r = await client.review(args.review_id, args.wait_ms, extra.signal);
          const note =
            r.state === 'answered' || r.state === 'expired'
              ? `Decided: ${r.decision} by ${r.answeredBy ?? "the policy's default"}${r.answerReason ? ` (${r.answerReason})` : ''}.`
              : `Still ${r.state} (until ${r.deadline}); call wait_for_review again to keep waiting. Do not run it meanwhile.`;
          return toolSuccess(r, note);
        },
        {
          notFoundHint:
            'The id is the reviewId that validate returned with "escalate"; list_reviews shows them.',
        },
      ),
  );
}
