import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type LoggingLevel,
} from '@modelcontextprotocol/sdk/types.js';
import type { BridgeClient, Event, StreamSubscription } from '../bridge-image/protocol/index.js';
import { logLine } from './log.js';
import { AGENTS_URI, RECENT_EVENTS_URI, SHADOW_PREFIX, shadowUri } from './resources.js';

/** Events that arrive together are told in one notification per resource. */
const COALESCE_MS = 20;
const START_RETRY_MS = 1000;

export interface ResourceNotifier {
  /** The URIs the client subscribed to (resources/subscribe). */
  readonly subscribed: ReadonlySet<string>;
  close(): void;
}

/** The shadow URIs an event of the bridge changes, for this agent's view. */
function shadowUris(event: Event, agentId: string, subscribed: ReadonlySet<string>): string[] {
  if (!event.type.startsWith('shadow.')) return [];
  const data = (event.data ?? {}) as { path?: unknown; from?: unknown };
  // Applying or discarding changes the workspace under every shadow: any open file may differ now.
  if (event.type === 'shadow.applied' || event.type === 'shadow.discarded') {
    return [...subscribed].filter((u) => u.startsWith(SHADOW_PREFIX));
  }
  if (event.agentId !== agentId) return [];
  return [data.path, data.from].filter((p): p is string => typeof p === 'string').map(shadowUri);
}

/**
 * Handles resources/subscribe and resources/unsubscribe and, from the first subscription on,
 * follows the bridge's event stream (over its WebSocket) to send notifications/resources/updated
 * for the subscribed resources. Connection trouble is reported through MCP logging.
 */
export function setUpNotifications(server: McpServer, client: BridgeClient): ResourceNotifier {
  const subscribed = new Set<string>();
  const pending = new Set<string>();
  let flushTimer: NodeJS.Timeout | undefined;
  let stream: StreamSubscription | undefined;
  let starting = false;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;

  const log = (level: LoggingLevel, message: string) => {
    logLine(message);
    if (!server.isConnected()) return;
    server.server.sendLoggingMessage({ level, logger: 'lighthouse', data: message }).catch(() => undefined);
  };

  const flush = () => {
    flushTimer = undefined;
    const uris = [...pending];
    pending.clear();
    if (!server.isConnected()) return;
    for (const uri of uris) {
      server.server.sendResourceUpdated({ uri }).catch(() => undefined);
    }
  };
  const changed = (uris: string[]) => {
    for (const uri of uris) if (subscribed.has(uri)) pending.add(uri);
    if (pending.size > 0) flushTimer ??= setTimeout(flush, COALESCE_MS);
  };

  const onEvent = (event: Event) => {
    const uris = [RECENT_EVENTS_URI, ...shadowUris(event, client.agentId, subscribed)];
    if (event.type.startsWith('agent.') || event.type.startsWith('session.')) uris.push(AGENTS_URI);
    changed(uris);
  };

  let dropped = false;
  const start = async () => {
    if (stream || starting || closed) return;
    starting = true;
    try {
      // Only what happens from now on: the client reads the resource for what came before.
      const { lastSeq } = await client.status();
      if (closed) return;
      stream = client.subscribe({
        after: lastSeq,
        onEvent,
        onCaughtUp: () => {
          if (dropped) log('info', 'connection to the Lighthouse bridge is back; resource updates resume');
          dropped = false;
        },
        onDisconnect: ({ code, reason, willRetry }) => {
          if (closed) return;
          if (!willRetry) {
            log(
              'error',
              `the Lighthouse bridge ended the event stream for good (${code}${reason ? `: ${reason}` : ''}); ` +
                'resource updates stop until this MCP server is restarted',
            );
            stream = undefined;
            return;
          }
          // A restarted bridge no longer knows the session and refuses the upgrade; the stream
          // reuses the client's session, so have a plain call reopen it before the next attempt.
          if (code === 401) void client.status().catch(() => undefined);
          if (!dropped) {
            log(
              'warning',
              `lost the connection to the Lighthouse bridge at ${client.baseUrl.origin} (${code}${reason ? `: ${reason}` : ''}); reconnecting`,
            );
          }
          dropped = true;
        },
      });
    } catch (e) {
      if (!dropped) {
        log(
          'warning',
          `cannot follow the Lighthouse bridge at ${client.baseUrl.origin} (${(e as Error).message}); retrying`,
        );
      }
      dropped = true;
      if (!closed) {
        retryTimer = setTimeout(() => void start(), START_RETRY_MS);
        retryTimer.unref();
      }
    } finally {
      starting = false;
    }
  };

  // Answered once the stream's starting point is known, so that every event after the answer is told.
  server.server.setRequestHandler(SubscribeRequestSchema, async (req) => {
    subscribed.add(req.params.uri);
    await start();
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, (req) => {
    subscribed.delete(req.params.uri);
    return {};
  });

  return {
    subscribed,
    close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      if (flushTimer) clearTimeout(flushTimer);
      stream?.close();
      stream = undefined;
    },
  };
}
