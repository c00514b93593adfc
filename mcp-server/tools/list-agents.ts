import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { AgentList } from '../../bridge-image/protocol/index.js';
import { toolSuccess, withBridge } from '../tool-results.js';
import { readOnlyTool } from './annotations.js';

export const listAgentsInput = z.object({});

export function registerListAgents(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'list_agents',
    {
      title: 'List agents',
      description:
        'Lists every agent the bridge knows on this project: id, display name, role (agent or expert), ' +
        'capabilities, when it registered and was last seen, whether it is connected now, and its open ' +
        'sessions. Use it to see who else is working here before touching shared work, or to find an ' +
        'expert with a given capability.',
      inputSchema: listAgentsInput,
      outputSchema: AgentList,
      annotations: readOnlyTool,
    },
    (_args, extra) => withBridge(client, async () => toolSuccess(await client.listAgents(extra.signal))),
  );
}
