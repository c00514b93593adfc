import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { Lease, LeaseRequest } from '../../bridge-image/protocol/index.js';
import { toolSuccess, withBridge } from '../tool-results.js';

const field = LeaseRequest.shape;

export const acquireLeaseInput = z.object({
  globs: field.globs.describe(
    'The paths to claim, as globs relative to the workspace root, e.g. ["src/auth/**", "package.json"].',
  ),
  ttl_ms: field.ttlMs.describe(
    'How long the lease lasts, in milliseconds (default 300000, 5 minutes; at most one day). Renew it ' +
      'with renew_lease if you need longer.',
  ),
  mode: field.mode.describe(
    '"exclusive" (the default): other agents cannot write these paths or lease them. "shared": ' +
      'others may hold shared leases on them too, but no one may take them exclusively.',
  ),
});

export function registerAcquireLease(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'acquire_lease',
    {
      title: 'Lease paths',
      description:
        'Claims paths (globs) for a while, so that other agents do not change them under you: while you ' +
        'hold an exclusive lease, their writes, moves and deletes there are refused with your name. Use ' +
        'it before a change that spans several files or takes a while, and release it when done; it ' +
        'expires on its own after ttl_ms. Refused if another agent holds an overlapping lease: the error ' +
        'names the holder and the expiry.',
      inputSchema: acquireLeaseInput,
      outputSchema: Lease,
      // Each call takes a new lease.
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
          const lease = await client.acquireLease(
            { globs: args.globs, ttlMs: args.ttl_ms, mode: args.mode },
            extra.signal,
          );
          return toolSuccess(
            lease,
            `Lease ${lease.id} (${lease.mode}) on ${lease.globs.join(', ')} until ${lease.expiresAt}. ` +
              `Renew it with renew_lease before then if you need longer; release it with release_lease when done.`,
          );
        },
        { doneHint: 'list_leases shows whether you hold the lease now.' },
      ),
  );
}
