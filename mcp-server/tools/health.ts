import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { Health, Ready } from '../../bridge-image/protocol/index.js';
import { toolSuccess, withBridge } from '../tool-results.js';
import { readOnlyTool } from './annotations.js';

export const healthInput = z.object({});

export const healthOutput = z.object({
  bridgeUrl: z.string(),
  health: Health,
  ready: Ready,
});

export function registerHealth(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'health',
    {
      title: 'Lighthouse bridge health',
      description:
        'Checks whether the Lighthouse bridge is alive and ready (event store open, file system ' +
        'mounted if enabled, not shutting down), without signing in. Use it when other Lighthouse ' +
        'tools fail, to tell "the bridge is down or starting" apart from a problem with your request.',
      inputSchema: healthInput,
      outputSchema: healthOutput,
      annotations: readOnlyTool,
    },
    (_args, extra) =>
      withBridge(client, async () => {
        const [health, ready] = await Promise.all([client.health(extra.signal), client.ready(extra.signal)]);
        const value: z.infer<typeof healthOutput> = { bridgeUrl: client.baseUrl.origin, health, ready };
        return toolSuccess(value, ready.ready ? undefined : 'The bridge is alive but not ready yet.');
      }),
  );
}
