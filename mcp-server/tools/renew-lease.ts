import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { Lease, RenewRequest } from '../../bridge-image/protocol/index.js';
import { ObjectId } from '../tool-inputs.js';
import { toolSuccess, withBridge } from '../tool-results.js';

export const LEASE_NOT_FOUND_HINT =
  'The lease expired, was released, or is not yours: list_leases shows the live leases; take a new one with acquire_lease.';

export const renewLeaseInput = z.object({
  lease_id: ObjectId.describe('The id of your lease, as acquire_lease or list_leases returned it.'),
  ttl_ms: RenewRequest.shape.ttlMs.describe(
    'The new lifetime from now, in milliseconds (default 300000, 5 minutes; at most one day).',
  ),
});

export function registerRenewLease(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'renew_lease',
    {
      title: 'Renew a lease',
      description:
        'Extends one of your live leases to ttl_ms from now, keeping its paths and mode. Use it when ' +
        'your work under a lease takes longer than planned, before the lease expires; an expired lease ' +
        'cannot be renewed (acquire a new one).',
      inputSchema: renewLeaseInput,
      outputSchema: Lease,
      // Each renewal moves the expiry again, measured from the call.
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
          const lease = await client.renewLease(args.lease_id, args.ttl_ms, extra.signal);
          return toolSuccess(lease, `Lease ${lease.id} now lasts until ${lease.expiresAt}.`);
        },
        { notFoundHint: LEASE_NOT_FOUND_HINT, doneHint: 'list_leases shows when the lease expires now.' },
      ),
  );
}
