import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { Inbox, SendMessage } from '../../bridge-image/protocol/index.js';
import { count, toolSuccess, withBridge } from '../tool-results.js';
import { readOnlyTool } from './annotations.js';

export const inboxInput = z.object({
  unacked_only: z
    .boolean()
    .optional()
    .describe('true: only the messages you have not acknowledged yet (the new ones). Default false.'),
  thread: SendMessage.shape.thread.describe(
    'Only one thread: the id of the message that started it. Your own messages in it are included.',
  ),
});

export function registerInbox(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'inbox',
    {
      title: 'Read your messages',
      description:
        'Lists the messages other agents sent to you (directly, to "all", or to a collaboration you belong ' +
        'to), oldest first, each with its sender, thread and whether you acknowledged it. Use it at the ' +
        'start of work and between steps with unacked_only: true to see what is new; acknowledge_message ' +
        'marks one as handled, send_message with its thread replies.',
      inputSchema: inboxInput,
      outputSchema: Inbox,
      annotations: readOnlyTool,
    },
    (args, extra) =>
      withBridge(client, async () => {
        const res = await client.inbox({
          unacked: args.unacked_only,
          thread: args.thread,
          signal: extra.signal,
        });
        const fresh = res.messages.filter((m) => !m.acked && m.from !== client.agentId).length;
        return toolSuccess(
          res,
          `${count(res.messages.length, 'message')}, ${fresh} not acknowledged yet (acknowledge_message marks one handled).`,
        );
      }),
  );
}
