import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { ObjectId } from '../tool-inputs.js';
import { toolSuccess, withBridge } from '../tool-results.js';

export const acknowledgeMessageInput = z.object({
  message_id: ObjectId.describe('The id of a message in your inbox.'),
});

export const acknowledgeMessageOutput = z.object({
  message_id: z.string(),
  seq: z.number().int().describe('The sequence number of the acknowledgement in the event log.'),
});

export function registerAcknowledgeMessage(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'acknowledge_message',
    {
      title: 'Acknowledge a message',
      description:
        'Marks a message in your inbox as read and handled, so that inbox with unacked_only: true no longer ' +
        'lists it and its sender can see that you took it in. Use it once you have acted on a message (or ' +
        'decided to ignore it); reply with send_message in its thread if the sender expects an answer.',
      inputSchema: acknowledgeMessageInput,
      outputSchema: acknowledgeMessageOutput,
      // Acknowledging twice leaves the message acknowledged.
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
          const { seq } = await client.ackMessage(args.message_id, extra.signal);
          return toolSuccess(
            { message_id: args.message_id, seq },
            `Message ${args.message_id} acknowledged.`,
          );
        },
        {
          doneHint: 'inbox shows whether the message is acknowledged.',
          notFoundHint:
            'Only messages addressed to you can be acknowledged; inbox lists them with their ids.',
        },
      ),
  );
}
