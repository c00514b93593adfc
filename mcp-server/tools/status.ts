import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { Status } from '../../bridge-image/protocol/index.js';
import { toolSuccess, withBridge } from '../tool-results.js';
import { readOnlyTool } from './annotations.js';

export const statusInput = z.object({});

export function registerStatus(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'status',
    {
      title: 'Lighthouse bridge status',
      description:
        'Shows the Lighthouse bridge this agent works through: its version and uptime, how many events ' +
        'the log holds and the last sequence number, active sessions, connected agents, the workspace ' +
        'path, and who you are to it (agent id, role, session id). Use it first to check that you are ' +
        'connected and under which identity, or to learn lastSeq before reading events.',
      inputSchema: statusInput,
      outputSchema: Status,
      annotations: readOnlyTool,
    },
    (_args, extra) => withBridge(client, async () => toolSuccess(await client.status(extra.signal))),
  );
}
