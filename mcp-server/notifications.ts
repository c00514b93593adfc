import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type LoggingLevel,
} from '@modelcontextprotocol/sdk/types.js';
import type { BridgeClient, Event, StreamSubscription } from '../bridge-image/protocol/index.js';
import { logLine } from './log.js';
import {
  AGENTS_URI,
  LISTED_CHANGES,
  listablePaths,
  RECENT_EVENTS_URI,
  SHADOW_PREFIX,
  shadowUri,
} from './resources.js';

/** Events that arrive together are told in one notification per resource. */
const COALESCE_MS = 20;
const START_RETRY_MS = 1000;

export interface ResourceNotifier {
  /** The URIs the client subscribed to (resources/subscribe). */
  readonly subscribed: ReadonlySet<string>;
  /**
   * The shadow paths resources/list just gave the client (undefined: the bridge could not say).
   * From then on the event stream is followed, and notifications/resources/list_changed is sent
   * whenever that set changes.
   */
  listed(paths: readonly string[] | undefined): void;
  /** Logs to stderr and, when connected, to the client through MCP logging. */
  log(level: LoggingLevel, message: string): void;
  close(): void;
}

/** Whether an event may change which paths this agent's shadow lists. */
function changesListing(event: Event, agentId: string): boolean {
  if (!event.type.startsWith('shadow.')) return false;
  if (event.type === 'shadow.applied' || event.type === 'shadow.discarded') {
    // An admin applies or discards: the owner of the shadow is in the data, not the event's agentId.
    return (event.data as { agentId?: unknown } | null)?.agentId === agentId;
  }
  return event.agentId === agentId;
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
 * Handles resources/subscribe and resources/unsubscribe and, from the first subscription or
 * resources/list on, follows the bridge's event stream (over its WebSocket) to send
 * notifications/resources/updated for the subscribed resources and
 * notifications/resources/list_changed when the listed shadow files change. Connection trouble is
 * reported through MCP logging.
 */
export function setUpNotifications(server: McpServer, client: BridgeClient): ResourceNotifier {
  const subscribed = new Set<string>();
  const pending = new Set<string>();
  let flushTimer: NodeJS.Timeout | undefined;
  let stream: StreamSubscription | undefined;
  let starting = false;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  /** What the client was last told resources/list holds; undefined until it lists. */
  let listing: Set<string> | undefined;
  let listTimer: NodeJS.Timeout | undefined;
  let listChecking = false;
  let listAgain = false;

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

  // Asks the bridge for the listing after shadow events (coalesced), and tells the client only when
  // the set of paths differs: most writes change a file that is already listed.
  const checkListing = async () => {
    listTimer = undefined;
    if (listChecking) {
      listAgain = true;
      return;
    }
    listChecking = true;
    try {
      const now = new Set(listablePaths((await client.changes({ limit: LISTED_CHANGES })).changes));
      const before = listing;
      if (closed || !before) return;
      listing = now;
      if (now.size !== before.size || [...now].some((p) => !before.has(p))) {
        if (server.isConnected()) server.sendResourceListChanged();
      }
    } catch {
      // The bridge is away; the stream's return (onCaughtUp) checks again.
    } finally {
      listChecking = false;
      if (listAgain) {
        listAgain = false;
        scheduleListCheck();
      }
    }
  };
  const scheduleListCheck = () => {
    if (listing && !closed) listTimer ??= setTimeout(() => void checkListing(), COALESCE_MS);
  };

  const onEvent = (event: Event) => {
    const uris = [RECENT_EVENTS_URI, ...shadowUris(event, client.agentId, subscribed)];
    if (event.type.startsWith('agent.') || event.type.startsWith('session.')) uris.push(AGENTS_URI);
    changed(uris);
    if (changesListing(event, client.agentId)) scheduleListCheck();
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
          // Whatever changed between the listing and the stream's start (or while it was down).
          scheduleListCheck();
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
    log,
    listed(paths) {
      listing = new Set(paths ?? []);
      void start();
    },
    close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      if (flushTimer) clearTimeout(flushTimer);
      if (listTimer) clearTimeout(listTimer);
      stream?.close();
      stream = undefined;
    },
  };
}
