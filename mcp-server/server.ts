import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { BridgeClient } from '../bridge-image/protocol/index.js';
import { version } from '../package.json';
import type { McpServerConfig } from './config.js';
import { setUpNotifications } from './notifications.js';
import { registerResources } from './resources.js';
import { registerTools } from './tools/index.js';

export interface LighthouseMcpServer {
  server: McpServer;
  client: BridgeClient;
  /** Closes the MCP side and ends the bridge session; safe to call more than once. */
  close(): Promise<void>;
}

const INSTRUCTIONS =
  'Lighthouse coordinates several AI agents working on one project. Your file changes go into your own ' +
  'shadow of the workspace (copy-on-write; the developer reviews and applies them): read, write and ' +
  'change files with read_file, write_file, edit_file, delete_file and move_file, look around with ' +
  'list_directory, tree and search_files, and review your work with shadow_diff and shadow_changes. ' +
  'Before changing files others may touch, claim them with acquire_lease (release_lease when done); ' +
  'leave notes on code with add_annotation. Through the bridge you can also see who else is working ' +
  '(list_agents, list_leases), read what has happened (query_events), record what you do ' +
  '(store_event) and, as a specialist, offer to answer questions (register_expert). If a tool says ' +
  'the bridge is unreachable, the developer has to start it; use health to check. Resources: ' +
  'lighthouse://agents, lighthouse://events/recent and lighthouse://shadow/{path} (a file of your ' +
  'shadow); subscribe to them to be told when they change.';

/** How long a tool call waits for a restarting bridge before it reports it unreachable. */
export const RESTART_GRACE_MS = 8000;

/** The signed bridge client of one agent, for one MCP session. */
export function createBridgeClient(config: McpServerConfig): BridgeClient {
  // The session is opened lazily by the first tool call, so starting the MCP server never waits on
  // the bridge and a bridge that starts later is picked up.
  return new BridgeClient({
    baseUrl: config.bridgeUrl,
    agentId: config.agentId,
    key: config.key,
    role: config.role,
    timeoutMs: config.timeoutMs,
    userAgent: `lighthouse-mcp/${version}`,
    // A tool call in flight while the bridge restarts waits for it (up to this long) instead of
    // failing; non-idempotent calls carry an idempotency key, so a retry never does a thing twice.
    retryWindowMs: RESTART_GRACE_MS,
  });
}

/**
 * One MCP session: its tools, resources and notifications, over a bridge client (and so a bridge
 * session) of its own. Sessions must not share one: the bridge allows one event stream (WebSocket)
 * per bridge session and revokes the session when a second one connects.
 */
export function createServer(config: McpServerConfig): LighthouseMcpServer {
  const client = createBridgeClient(config);
  const server = new McpServer(
    { name: 'lighthouse', version },
    {
      instructions: INSTRUCTIONS,
      capabilities: { resources: { subscribe: true, listChanged: true }, logging: {} },
    },
  );
  const notifier = setUpNotifications(server, client);
  registerTools(server, client);
  registerResources(server, client, notifier);
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      try {
        notifier.close();
        await server.close();
      } finally {
        await client.close();
      }
    })());
  return { server, client, close };
}
