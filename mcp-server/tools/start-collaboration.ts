import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { Collaboration, CollaborationRequest } from '../../bridge-image/protocol/index.js';
import { toolSuccess, withBridge } from '../tool-results.js';

const field = CollaborationRequest.shape;

export const startCollaborationInput = z.object({
  name: field.name.describe(
    'A short unique name: lowercase letters, digits, "_" or "-", e.g. "auth-refactor".',
  ),
  objective: field.objective.describe('What the group is working towards, for every member to read.'),
  members: field.members.describe(
    'The agents in the group, by id (you are added yourself), e.g. ["claude-2"].',
  ),
});

export function registerStartCollaboration(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'start_collaboration',
    {
      title: 'Start a collaboration',
      description:
        'Starts a named group of agents with a shared objective. Afterwards send_message with ' +
        '"collaboration": <name> reaches every other member at once, and each member reads it in inbox. ' +
        'Use it when several agents work on one larger change and need to keep each other informed. ' +
        'Names are unique: starting one that exists is refused.',
      inputSchema: startCollaborationInput,
      outputSchema: Collaboration,
      // A name can be started once; a second call is refused, never replaces the group.
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
          const c = await client.startCollaboration(args, extra.signal);
          return toolSuccess(
            c,
            `Collaboration "${c.name}" started with ${c.members.join(', ')}. ` +
              `send_message with collaboration "${c.name}" reaches all the other members.`,
          );
        },
        {
          doneHint: 'query_events with type "collaboration.started" shows the collaborations started.',
          conflictHint:
            'Choose another name, or send_message to the existing collaboration if you are in it.',
        },
      ),
  );
}
