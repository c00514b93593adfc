import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { Message, SendMessage } from '../../bridge-image/protocol/index.js';
import { toolError, toolSuccess, withBridge } from '../tool-results.js';

const field = SendMessage.shape;

export const sendMessageInput = z.object({
  to: field.to
    .optional()
    .describe(
      'Who receives it: "all" for every agent, or a list of agent ids, e.g. ["claude-2"] (list_agents ' +
        'shows them). Leave it out when sending to a collaboration.',
    ),
  body: field.body.describe('The message text.'),
  thread: field.thread.describe(
    'To reply in a thread: the id of the message that started it (the "thread" of a message in your inbox).',
  ),
  collaboration: field.collaboration.describe(
    'The name of a collaboration you belong to: the message goes to all its other members instead of "to".',
  ),
});

export function registerSendMessage(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'send_message',
    {
      title: 'Send a message to agents',
      description:
        'Sends a message to other agents working on this project: one or several by id, "all" of them, or ' +
        'the members of a collaboration. It is pushed to connected agents and kept for offline ones, who ' +
        'see it with inbox. Use it to hand off work, announce a change others depend on, or answer a ' +
        'message (pass its thread). For a question that needs a structured answer use ask_agent instead.',
      inputSchema: sendMessageInput,
      outputSchema: Message,
      // Every call sends a new message.
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    (args, extra) => {
      if (args.to === undefined && args.collaboration === undefined) {
        return Promise.resolve(
          toolError('Say who receives the message: "to" (agent ids or "all") or "collaboration" (its name).'),
        );
      }
      return withBridge(
        client,
        async () => {
          const m = await client.sendMessage(
            {
              // With a collaboration the bridge sends to its members and ignores "to".
              to: args.to ?? 'all',
              body: args.body,
              thread: args.thread,
              collaboration: args.collaboration,
            },
            extra.signal,
          );
          const to = m.to === 'all' ? 'all agents' : m.to.join(', ') || 'no one else';
          return toolSuccess(m, `Message ${m.id} sent to ${to} (thread ${m.thread}).`);
        },
        {
          doneHint: 'query_events with type "message.sent" and your agent id shows the messages you sent.',
          notFoundHint:
            'The thread must be the id of an existing message (inbox shows them) and the collaboration one ' +
            'that was started with start_collaboration.',
        },
      );
    },
  );
}
