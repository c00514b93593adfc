import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { EventPage, EventQuery } from '../../bridge-image/protocol/index.js';
import { toolSuccess, withBridge } from '../tool-results.js';
import { readOnlyTool } from './annotations.js';

const field = EventQuery.shape;

// The protocol's own query fields, with descriptions a model can act on.
export const queryEventsInput = z.object({
  type: field.type.describe(
    'Only these event types, comma-separated, e.g. "custom.note" or "agent.registered,session.started".',
  ),
  agent: field.agent.describe('Only events written by these agent ids, comma-separated.'),
  stream: field.stream.describe('Only this stream, e.g. "agent:claude", "custom:build".'),
  since: field.since.describe('Only events at or after this ISO 8601 time, e.g. "2025-01-31T09:00:00Z".'),
  until: field.until.describe('Only events before this ISO 8601 time.'),
  after: field.after.describe(
    'Only events with seq greater than this. To page forward, pass the previous nextCursor here.',
  ),
  before: field.before.describe(
    'Only events with seq less than this. To page with order "desc", pass the previous nextCursor here.',
  ),
  limit: field.limit.describe('At most this many events (default 100).'),
  order: field.order.describe('"asc" (oldest first, the default) or "desc" (newest first).'),
});

export function registerQueryEvents(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'query_events',
    {
      title: 'Query events',
      description:
        'Reads the Lighthouse event log: what agents and the developer did on this project, as events ' +
        '{ seq, stream, streamVersion, type, agentId, ts, data }. Filter by type, agent, stream and time, ' +
        'and page with after/before and nextCursor. Use it to catch up on what others did, to re-read a ' +
        'shared stream before writing to it (its last streamVersion is what store_event expects), or to ' +
        'find earlier notes.',
      inputSchema: queryEventsInput,
      outputSchema: EventPage,
      annotations: readOnlyTool,
    },
    (args, extra) =>
      withBridge(client, async () => {
        const page = await client.query(args, extra.signal);
        const more =
          page.nextCursor === null
            ? 'No more events match.'
            : `More events match: call again with ${args.order === 'desc' ? 'before' : 'after'} ${page.nextCursor}.`;
        return toolSuccess(page, `${page.events.length} events. ${more}`);
      }),
  );
}
