import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { registerHealth } from './health.js';
import { registerListAgents } from './list-agents.js';
import { registerQueryEvents } from './query-events.js';
import { registerRegisterExpert } from './register-expert.js';
import { registerStatus } from './status.js';
import { registerStoreEvent } from './store-event.js';

/** Every tool the MCP server offers, in the order clients list them. */
export function registerTools(server: McpServer, client: BridgeClient): void {
  registerStatus(server, client);
  registerHealth(server, client);
  registerStoreEvent(server, client);
  registerQueryEvents(server, client);
  registerRegisterExpert(server, client);
  registerListAgents(server, client);
}
