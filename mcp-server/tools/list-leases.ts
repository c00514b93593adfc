import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { LeaseList } from '../../bridge-image/protocol/index.js';
import { count, toolSuccess, withBridge } from '../tool-results.js';
import { readOnlyTool } from './annotations.js';

export const listLeasesInput = z.object({});

export function registerListLeases(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'list_leases',
    {
      title: 'List leases',
      description:
        'Lists every live lease on this project, yours and other agents: id, holder, globs, exclusive ' +
        'or shared, and until when. Use it before starting on shared files to see who is working where, ' +
        'after a write was refused because of a lease, or to find the ids of your own leases.',
      inputSchema: listLeasesInput,
      outputSchema: LeaseList,
      annotations: readOnlyTool,
    },
    (_args, extra) =>
      withBridge(client, async () => {
        const res = await client.listLeases(extra.signal);
        const mine = res.leases.filter((l) => l.agentId === client.agentId).length;
        return toolSuccess(
          res,
          `${count(res.leases.length, 'live lease')}, ${mine} of them yours (agent "${client.agentId}").`,
        );
      }),
  );
}
