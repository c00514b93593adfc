import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { Lease } from '../../bridge-image/protocol/index.js';
import { ObjectId } from '../tool-inputs.js';
import { toolSuccess, withBridge } from '../tool-results.js';
import { LEASE_NOT_FOUND_HINT } from './renew-lease.js';

export const releaseLeaseInput = z.object({
  lease_id: ObjectId.describe('The id of your lease, as acquire_lease or list_leases returned it.'),
});

export function registerReleaseLease(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'release_lease',
    {
      title: 'Release a lease',
      description:
        'Gives up one of your leases at once, so that other agents may change those paths again. Use ' +
        'it as soon as the work that needed the lease is done, rather than letting it expire.',
      inputSchema: releaseLeaseInput,
      outputSchema: Lease,
      // A released lease stays released; a second call is refused and changes nothing.
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
          const lease = await client.releaseLease(args.lease_id, extra.signal);
          return toolSuccess(lease, `Released lease ${lease.id} on ${lease.globs.join(', ')}.`);
        },
        {
          notFoundHint: LEASE_NOT_FOUND_HINT,
          doneHint: 'list_leases shows whether the lease is still held.',
        },
      ),
  );
}
