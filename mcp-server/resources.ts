import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError, type ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import { BridgeError, type BridgeClient } from '../bridge-image/protocol/index.js';
import { describeFailure } from './bridge-errors.js';
import { isBinary } from './file-content.js';
import type { ResourceNotifier } from './notifications.js';

export const AGENTS_URI = 'lighthouse://agents';
export const RECENT_EVENTS_URI = 'lighthouse://events/recent';
export const SHADOW_PREFIX = 'lighthouse://shadow/';
/** `{+path}`: reserved expansion, so that a path keeps its "/" (RFC 6570). */
export const SHADOW_TEMPLATE = `${SHADOW_PREFIX}{+path}`;
/** How many events lighthouse://events/recent holds, newest first. */
export const RECENT_EVENTS = 100;
/**
 * resources/list names at most this many changed files (the first by path): a shadow with thousands
 * of changes (node_modules, dist) would otherwise make an answer clients refuse. shadow_changes
 * pages through the rest; the template still reads any file.
 */
export const LISTED_CHANGES = 100;

/** The URI of one file of the agent's shadow. */
export function shadowUri(path: string): string {
  return SHADOW_PREFIX + path.split('/').map(encodeURIComponent).join('/');
}

/** The paths a shadow's changes list as resources: those that can be read (not deleted). */
export function listablePaths(changes: readonly { path: string; status: string }[]): string[] {
  return changes
    .filter((c) => c.status !== 'deleted')
    .map((c) => c.path)
    .sort();
}

/** The workspace path a shadow URI names; the template variable is still percent-encoded. */
function shadowPath(raw: string | string[] | undefined): string {
  const value = Array.isArray(raw) ? raw.join(',') : (raw ?? '');
  try {
    return decodeURIComponent(value);
  } catch {
    throw new McpError(
      ErrorCode.InvalidParams,
      `Not a valid shadow file URI: bad percent-encoding in "${value}"`,
    );
  }
}

/** A failed bridge call as a protocol error with the same advice the tools give. */
async function fromBridge<T>(client: BridgeClient, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const message = describeFailure(err, { bridgeUrl: client.baseUrl.origin, agentId: client.agentId });
    const notFound = err instanceof BridgeError && err.status === 404;
    // -32002 is the spec's "resource not found".
    throw new McpError(notFound ? -32002 : ErrorCode.InternalError, message);
  }
}

function json(uri: URL, value: unknown): ReadResourceResult {
  return {
    contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(value, null, 2) }],
  };
}

/**
 * The files the shadow template lists: the agent's own changed files, not the whole workspace
 * (which can hold hundreds of thousands of files; the template reads any of them). If the bridge
 * cannot say, the list is left empty rather than failing resources/list, and the notifier tells the
 * client when it changes once the bridge is back.
 */
async function listShadow(client: BridgeClient, notifier: ResourceNotifier, signal: AbortSignal) {
  let paths: string[] | undefined;
  try {
    paths = listablePaths((await client.changes({ limit: LISTED_CHANGES, signal })).changes);
  } catch (err) {
    const why = describeFailure(err, { bridgeUrl: client.baseUrl.origin, agentId: client.agentId });
    notifier.log('warning', `resources/list leaves out your changed files: ${why}`);
  }
  notifier.listed(paths);
  return {
    resources: (paths ?? []).map((path) => ({
      uri: shadowUri(path),
      name: path,
      title: path,
      description: `${path} as your shadow has it: a file you changed.`,
    })),
  };
}

/** lighthouse://agents, lighthouse://events/recent and the lighthouse://shadow/{+path} template. */
export function registerResources(server: McpServer, client: BridgeClient, notifier: ResourceNotifier): void {
  server.registerResource(
    'agents',
    AGENTS_URI,
    {
      title: 'Agents',
      description:
        'Every agent the bridge knows on this project (as the list_agents tool returns it): id, role, ' +
        'capabilities, whether it is connected and its sessions. Updated when agents come and go.',
      mimeType: 'application/json',
    },
    async (uri, extra) => json(uri, await fromBridge(client, () => client.listAgents(extra.signal))),
  );
  server.registerResource(
    'recent-events',
    RECENT_EVENTS_URI,
    {
      title: 'Recent events',
      description: `The newest ${RECENT_EVENTS} events of the project, newest first, with the bridge's lastSeq. Updated on every new event.`,
      mimeType: 'application/json',
    },
    async (uri, extra) =>
      json(
        uri,
        await fromBridge(client, () => client.query({ order: 'desc', limit: RECENT_EVENTS }, extra.signal)),
      ),
  );
  server.registerResource(
    'shadow-file',
    new ResourceTemplate(SHADOW_TEMPLATE, { list: (extra) => listShadow(client, notifier, extra.signal) }),
    {
      title: 'A file of your shadow',
      description:
        'A file as your shadow of the workspace shows it (your own changes where you made them, the ' +
        'workspace elsewhere), e.g. lighthouse://shadow/src/index.ts. Text as text, binary as a base64 blob. ' +
        'resources/list lists the files you changed; any other workspace file can be read too.',
    },
    async (uri, variables, extra) => {
      const path = shadowPath(variables.path);
      const data = await fromBridge(client, () => client.readFile(path, { signal: extra.signal }));
      if (isBinary(data)) {
        return {
          contents: [{ uri: uri.href, mimeType: 'application/octet-stream', blob: data.toString('base64') }],
        };
      }
      return { contents: [{ uri: uri.href, mimeType: 'text/plain', text: data.toString('utf8') }] };
    },
  );
}
