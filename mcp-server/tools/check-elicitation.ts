import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { ElicitationList } from '../../bridge-image/protocol/index.js';
import { ObjectId } from '../tool-inputs.js';
import { count, toolSuccess, withBridge } from '../tool-results.js';
import { readOnlyTool } from './annotations.js';

export const checkElicitationInput = z.object({
  elicitation_id: ObjectId.optional().describe(
    'The id ask_agent returned. Leave it out to list every question you asked or were asked.',
  ),
});

export function registerCheckElicitation(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'check_elicitation',
    {
      title: 'Check questions between agents',
      description:
        'Shows the state of a question asked with ask_agent: "pending", "answered" (with the action ' +
        'accept, decline or cancel, and for accept the content, which fits the schema) or "expired". ' +
        'Without an id it lists all the questions you asked and those asked of you; answer the pending ' +
        'ones addressed to you with respond_elicitation.',
      inputSchema: checkElicitationInput,
      outputSchema: ElicitationList,
      annotations: readOnlyTool,
    },
    (args, extra) =>
      withBridge(
        client,
        async () => {
          if (args.elicitation_id !== undefined) {
            const el = await client.elicitation(args.elicitation_id, extra.signal);
            const state =
              el.state === 'answered'
                ? `answered by ${el.to}: ${el.action}${el.action === 'accept' ? ` with ${JSON.stringify(el.content)}` : ''}`
                : el.state;
            return toolSuccess({ elicitations: [el] }, `Elicitation ${el.id} is ${state}.`);
          }
          const res = await client.elicitations(extra.signal);
          const forMe = res.elicitations.filter((e) => e.to === client.agentId && e.state === 'pending');
          return toolSuccess(
            res,
            `${count(res.elicitations.length, 'question')}; ${forMe.length} pending for you to answer ` +
              '(respond_elicitation).',
          );
        },
        { notFoundHint: 'check_elicitation without an id lists the questions you asked or were asked.' },
      ),
  );
}
