import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import {
  AgentInfo,
  AgentRegisterRequest,
  BridgeError,
  ErrorCode,
  nameExpertHint,
} from '../../bridge-image/protocol/index.js';
import { toolError, toolSuccess, withBridge } from '../tool-results.js';

const field = AgentRegisterRequest.shape;

export const registerExpertInput = z.object({
  // An expert with no capability would never be asked anything, so at least one is required here.
  capabilities: field.capabilities
    .unwrap()
    .min(1, 'give at least one capability')
    .describe(
      'What you can judge, as lowercase words, e.g. ["security", "sql", "typescript:types"]. ' +
        'Questions that need one of these are routed to you.',
    ),
  displayName: field.displayName.describe('A name for the developer to see, e.g. "Security reviewer".'),
  meta: field.meta.describe('Extra string facts about you, e.g. {"model": "..."}.'),
});

export function registerRegisterExpert(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'register_expert',
    {
      title: 'Register as an expert',
      description:
        'Registers this agent with the Lighthouse bridge under the capabilities it can judge, so that ' +
        'escalated questions needing them (e.g. "is this migration safe?") are routed to it. Use it once ' +
        'at the start when you act as a reviewer or specialist; calling it again replaces the earlier ' +
        'registration.',
      inputSchema: registerExpertInput,
      outputSchema: AgentInfo,
      // Re-registering with the same arguments leaves the same registration; it replaces, never deletes.
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
          let info: AgentInfo;
          try {
            info = await client.registerAgent(args, extra.signal);
          } catch (e) {
            // Experts are named by the developer, never by themselves: say exactly what to ask for.
            if (e instanceof BridgeError && e.code === ErrorCode.forbidden && client.role === 'expert')
              return toolError(askDeveloper(client.agentId, args.capabilities, e.message));
            throw e;
          }
          const note =
            client.role === 'expert'
              ? undefined
              : `Recorded with role ${info.role}: this MCP server runs with --role ${client.role}, so no ` +
                'review is routed to you. To take part as an expert, the MCP server must be started with ' +
                `--role expert, and ${nameExpertHint(client.agentId, args.capabilities)}.`;
          return toolSuccess(info, note);
        },
        { doneHint: 'list_agents shows your registration.' },
      ),
  );
}

/** The refusal as a request the agent can pass on to the developer word for word. */
function askDeveloper(agentId: string, capabilities: string[], refusal: string): string {
  return (
    `The bridge refused you as an expert: ${refusal}\n\n` +
    'Only the developer can name an expert. Ask the developer, in these words: ' +
    `"Please name agent ${agentId} an expert with the capabilities ${capabilities.join(', ')}: in VS Code ` +
    'run the command "Lighthouse: Name Expert Agent…" and enter that agent id and those capabilities." ' +
    'Once named, call register_expert again.'
  );
}
