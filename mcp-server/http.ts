import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { ConfigError, HTTP_PATH, type McpServerConfig } from './config.js';
import { logLine } from './log.js';
import { createServer, type LighthouseMcpServer } from './server.js';

/** Only ever bound here: the server acts as an agent with its key, so nothing off this machine may reach it. */
export const HTTP_HOST = '127.0.0.1';
/** Host and Origin names a request may carry; anything else is a page trying DNS rebinding. */
const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);
/** As the SDK transport's own limit: write_file content arrives in one JSON-RPC body. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** A session with no request open for this long is ended (a client that went away without DELETE). */
export const DEFAULT_IDLE_MS = 30 * 60_000;

interface Entry {
  session: LighthouseMcpServer;
  transport: StreamableHTTPServerTransport;
  /** Requests (including a GET event stream) still open. */
  open: number;
  lastSeen: number;
}

export interface HttpServing {
  /** e.g. http://127.0.0.1:43117/mcp */
  url: string;
  /** How many MCP sessions are open. */
  sessions(): number;
  close(): Promise<void>;
}

export interface HttpOptions {
  idleMs?: number;
}

function jsonRpcError(res: http.ServerResponse, status: number, code: number, message: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

function isLoopbackName(value: string, withScheme: boolean): boolean {
  try {
    return LOOPBACK_NAMES.has(new URL(withScheme ? value : `http://${value}`).hostname);
  } catch {
    return false;
  }
}

/** Why a request is refused for its Host or Origin header, or undefined if both are loopback names. */
function rebindingRefusal(req: http.IncomingMessage): string | undefined {
  const host = req.headers.host;
  if (!host || !isLoopbackName(host, false)) {
    return `Host "${host ?? ''}" is not a loopback name; lighthouse-mcp only answers http://${HTTP_HOST}`;
  }
  const origin = req.headers.origin;
  // Tools send no Origin; a browser always does, and only a page served from loopback may call.
  if (origin !== undefined && !isLoopbackName(origin, true)) {
    return `Origin "${origin}" is not a loopback origin; lighthouse-mcp does not answer web pages from elsewhere`;
  }
  return undefined;
}

async function readJsonBody(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new RangeError(`request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/**
 * Serves MCP over Streamable HTTP at http://127.0.0.1:port/mcp: every initialize without a session
 * starts an MCP session of its own (own bridge session, subscriptions and log level), so several
 * clients can act as the one agent without seeing each other's notifications.
 */
export async function serveHttp(
  config: McpServerConfig,
  port: number,
  opts: HttpOptions = {},
): Promise<HttpServing> {
  const idleMs = opts.idleMs ?? DEFAULT_IDLE_MS;
  const sessions = new Map<string, Entry>();

  const drop = (id: string | undefined) => {
    if (id === undefined) return;
    const entry = sessions.get(id);
    if (!entry) return;
    sessions.delete(id);
    void entry.session.close().catch(() => undefined);
  };

  // Counted per request so that a session with an open event stream is never taken for idle.
  const track = (entry: Entry, res: http.ServerResponse) => {
    entry.open++;
    entry.lastSeen = Date.now();
    res.once('close', () => {
      entry.open--;
      entry.lastSeen = Date.now();
    });
  };

  const startSession = async (req: http.IncomingMessage, res: http.ServerResponse, body: unknown) => {
    const session = createServer(config);
    const entry: Entry = {
      session,
      transport: new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void sessions.set(id, entry),
        onsessionclosed: (id) => drop(id),
      }),
      open: 0,
      lastSeen: Date.now(),
    };
    entry.transport.onclose = () => drop(entry.transport.sessionId);
    await session.server.connect(entry.transport);
    track(entry, res);
    await entry.transport.handleRequest(req, res, body);
    // The transport refused the initialize (e.g. a bad Accept header): nothing will use this session.
    if (entry.transport.sessionId === undefined || !sessions.has(entry.transport.sessionId)) {
      await session.close();
    }
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = new URL(req.url ?? '/', `http://${HTTP_HOST}`).pathname;
    if (path !== HTTP_PATH) return jsonRpcError(res, 404, -32000, `Not found: MCP is served at ${HTTP_PATH}`);
    const refused = rebindingRefusal(req);
    if (refused) return jsonRpcError(res, 403, -32000, `Forbidden: ${refused}`);

    const header = req.headers['mcp-session-id'];
    const id = Array.isArray(header) ? header[0] : header;
    if (id !== undefined) {
      const entry = sessions.get(id);
      // 404 tells the client its session is gone and it should initialize a new one (the spec's rule).
      if (!entry) return jsonRpcError(res, 404, -32001, 'Session not found: initialize a new session');
      track(entry, res);
      return entry.transport.handleRequest(req, res);
    }
    if (req.method !== 'POST') {
      return jsonRpcError(res, 400, -32000, 'Bad Request: no Mcp-Session-Id header; initialize first');
    }
    let body: unknown;
    try {
      body = await readJsonBody(req);
    } catch (e) {
      if (e instanceof RangeError) return jsonRpcError(res, 413, -32000, `Payload too large: ${e.message}`);
      return jsonRpcError(res, 400, -32700, 'Parse error: the body is not JSON');
    }
    if (!isInitializeRequest(body)) {
      return jsonRpcError(res, 400, -32000, 'Bad Request: no Mcp-Session-Id header; initialize first');
    }
    return startSession(req, res, body);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      logLine(`HTTP request failed: ${(e as Error).stack ?? String(e)}`);
      jsonRpcError(res, 500, -32603, 'Internal error');
    });
  });
  await new Promise<void>((resolve, reject) => {
    // Reported like a bad option (a message, exit code 2): the user picks another port.
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new ConfigError(
          e.code === 'EADDRINUSE'
            ? `port ${port} on ${HTTP_HOST} is in use; choose another with --http PORT (0 picks a free one)`
            : `cannot listen on ${HTTP_HOST}:${port}: ${e.message}`,
        ),
      ),
    );
    server.listen(port, HTTP_HOST, () => resolve());
  });

  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const [id, e] of sessions) if (e.open === 0 && now - e.lastSeen > idleMs) drop(id);
    },
    Math.max(1000, Math.min(idleMs, 60_000)),
  );
  sweep.unref();

  const { port: bound } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${HTTP_HOST}:${bound}${HTTP_PATH}`,
    sessions: () => sessions.size,
    close: () =>
      (closing ??= (async () => {
        clearInterval(sweep);
        const entries = [...sessions.values()];
        sessions.clear();
        await Promise.allSettled(entries.map((e) => e.session.close()));
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })()),
  };
}
