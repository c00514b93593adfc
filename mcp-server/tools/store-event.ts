import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { AppendRequest, AppendResponse, EventType, StreamName } from '../../bridge-image/protocol/index.js';
import { toolSuccess, withBridge } from '../tool-results.js';

// The field rules come from the protocol; the tool narrows them to what the bridge lets agents
// write, so that a model learns the rule from the schema instead of from a refused call. They use
// regex, not startsWith: zod renders startsWith as a non-standard JSON Schema "format" ("starts_with")
// that strict validators in clients reject.
export const storeEventInput = z.object({
  type: EventType.regex(
    /^custom\./,
    'type must start with "custom."; other types belong to the bridge',
  ).describe(
    'Event type, dotted lowercase and starting with "custom.", e.g. "custom.build_started" or "custom.note".',
  ),
  data: z
    .unknown()
    .optional()
    .describe('The event payload: any JSON value (object, array, string, number...). Omitted means null.'),
  stream: StreamName.regex(/^custom:/, 'stream must be "custom:<name>"; leave it out for your own stream')
    .optional()
    .describe(
      'A shared stream "custom:<name>" that several agents read and write, e.g. "custom:build". ' +
        'Leave it out to append to your own stream agent:<your id>.',
    ),
  expectedVersion: AppendRequest.shape.expectedVersion.describe(
    'Optimistic concurrency: the stream version you last read (0 for a stream that must not exist yet). ' +
      'The append is refused if another writer changed the stream since; leave it out to append unconditionally.',
  ),
});

export function registerStoreEvent(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'store_event',
    {
      title: 'Store an event',
      description:
        'Appends one event to the Lighthouse event log, durably, where the developer and the other agents ' +
        'can see it. Use it to record progress, decisions, findings or hand-offs ("custom.*" types only), ' +
        'on your own stream or a shared "custom:<name>" stream. Pass expectedVersion when several agents ' +
        'update one shared stream, so that a concurrent write is detected instead of silently interleaved.',
      inputSchema: storeEventInput,
      outputSchema: AppendResponse,
      // Appending adds a new event each time (not idempotent) and never changes or removes one.
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    (args, extra) =>
      withBridge(client, async () => {
        const res = await client.append(
          {
            stream: args.stream,
            expectedVersion: args.expectedVersion,
            events: [{ type: args.type, data: args.data ?? null }],
          },
          extra.signal,
        );
        const seq = res.events[0]?.seq;
        return toolSuccess(
          res,
          `Stored as event ${seq} in ${res.stream}, now at version ${res.streamVersion}.`,
        );
      }),
  );
}
