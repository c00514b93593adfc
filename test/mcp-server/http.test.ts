import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { deriveAgentKey, Status, type BridgeClient } from '../../bridge-image/protocol/index.js';
import type { McpServerConfig } from '../../mcp-server/config.js';
import { serveHttp, type HttpServing } from '../../mcp-server/http.js';
import { startBridge, type BridgeProcess } from '../helpers/bridge-process.js';
import { agentArgs, eventually, startMcpHttp, textOf, type McpHttpProcess } from './mcp-process.js';
import { TOOLS } from './tool-names.js';

const AGENT = 'claude-http';
const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
};

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw request, for what the SDK client never sends: foreign Host or Origin headers, no session. */
function raw(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<RawResponse> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: opts.method ?? 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...opts.headers,
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body === undefined ? undefined : JSON.stringify(opts.body));
  });
}

/** Sessions the bridge holds for one agent. */
async function bridgeSessions(admin: BridgeClient, agentId: string): Promise<string[]> {
  return (await admin.listSessions()).sessions.filter((s) => s.agentId === agentId).map((s) => s.sessionId);
}

describe('lighthouse-mcp over Streamable HTTP against a real bridge', () => {
  let bridge: BridgeProcess;
  let mcp: McpHttpProcess;
  let admin: BridgeClient;

  beforeAll(async () => {
    bridge = await startBridge();
    admin = bridge.admin();
    mcp = await startMcpHttp(agentArgs(bridge, AGENT));
  });
  afterAll(async () => {
    await mcp?.stop();
    await bridge?.stop();
  });

  it('listens on 127.0.0.1 at /mcp', () => {
    expect(new URL(mcp.url).hostname).toBe('127.0.0.1');
    expect(new URL(mcp.url).pathname).toBe('/mcp');
  });

  it('is not reachable on any other address of this machine', async () => {
    const port = Number(new URL(mcp.url).port);
    const others = Object.values(os.networkInterfaces())
      .flat()
      .filter((a) => a && a.family === 'IPv4' && !a.internal)
      .map((a) => a!.address);
    for (const address of [...others, '::1']) {
      const outcome = await new Promise<string>((resolve) => {
        const s = net.connect({ host: address, port });
        s.once('connect', () => (s.destroy(), resolve('connected')));
        s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
      expect(outcome, address).not.toBe('connected');
    }
  });

  it('offers the same tools as over stdio, and a call goes through the bridge as this agent', async () => {
    const conn = await mcp.connect();
    const { tools } = await conn.client.listTools();
    expect(tools.map((t) => t.name)).toEqual([...TOOLS]);
    const res = await conn.call('status');
    expect(res.isError, textOf(res)).toBeFalsy();
    expect(Status.parse(res.structuredContent).you.agentId).toBe(AGENT);

    const written = await conn.call('write_file', { path: 'http/a.txt', content: 'over http\n' });
    expect(written.isError, textOf(written)).toBeFalsy();
    expect((await admin.readFile('http/a.txt', { agent: AGENT })).toString()).toBe('over http\n');
    const read = await conn.client.readResource({ uri: 'lighthouse://shadow/http/a.txt' });
    expect(read.contents[0]).toMatchObject({ mimeType: 'text/plain', text: 'over http\n' });
    await conn.close();
  });

  it('gives each client its own MCP session and bridge session; notifications go to the subscriber only', async () => {
    const before = await bridgeSessions(admin, AGENT);
    const a = await mcp.connect('a');
    const b = await mcp.connect('b');
    expect(a.transport.sessionId).toBeTruthy();
    expect(b.transport.sessionId).toBeTruthy();
    expect(a.transport.sessionId).not.toBe(b.transport.sessionId);
    await a.call('status');
    await b.call('status');
    const during = await bridgeSessions(admin, AGENT);
    expect(during.filter((s) => !before.includes(s))).toHaveLength(2);

    const seenA: string[] = [];
    const seenB: string[] = [];
    a.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void seenA.push(n.params.uri));
    b.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void seenB.push(n.params.uri));
    await a.client.subscribeResource({ uri: 'lighthouse://events/recent' });
    // B subscribes to something else, so its event stream is open too: the bridge allows one per session.
    await b.client.subscribeResource({ uri: 'lighthouse://agents' });
    await bridge.agent('someone-else').append({ events: [{ type: 'custom.ping', data: null }] });
    await eventually(() => seenA.includes('lighthouse://events/recent'));
    await new Promise((r) => setTimeout(r, 200));
    expect(seenB).not.toContain('lighthouse://events/recent');
    // Both streams stay up: neither session was revoked for a second WebSocket.
    expect((await a.call('status')).isError).toBeFalsy();
    expect((await b.call('status')).isError).toBeFalsy();
    expect(mcp.stderr()).not.toMatch(/session revoked|ended the event stream/);

    // Ending a session (DELETE) ends its bridge session too, and its id is then unknown.
    const ended = a.transport.sessionId!;
    await a.transport.terminateSession();
    await eventually(async () => (await bridgeSessions(admin, AGENT)).length === during.length - 1);
    const after = await raw(mcp.url, {
      headers: { 'mcp-session-id': ended },
      body: { jsonrpc: '2.0', id: 2, method: 'ping' },
    });
    expect(after.status).toBe(404);
    await a.close();
    await b.close();
  });

  it('refuses a foreign Host or Origin (DNS rebinding) and accepts loopback names', async () => {
    const port = new URL(mcp.url).port;
    const refused: Record<string, string>[] = [
      { host: `evil.example:${port}` },
      { host: `127.0.0.1:${port}`, origin: 'http://evil.example' },
      { host: `127.0.0.1:${port}`, origin: 'null' },
    ];
    for (const headers of refused) {
      const res = await raw(mcp.url, { headers, body: INIT });
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(JSON.parse(res.body)).toMatchObject({ jsonrpc: '2.0', error: { message: /Forbidden/ } });
    }
    const accepted: Record<string, string>[] = [
      { host: `localhost:${port}`, origin: `http://localhost:${port}` },
      { host: `127.0.0.1:${port}` },
      { host: `[::1]:${port}` },
    ];
    for (const headers of accepted) {
      const res = await raw(mcp.url, { headers, body: INIT });
      expect(res.status, JSON.stringify(headers)).toBe(200);
      expect(res.headers['mcp-session-id']).toBeTruthy();
      await raw(mcp.url, {
        method: 'DELETE',
        headers: { 'mcp-session-id': String(res.headers['mcp-session-id']) },
      });
    }
  });

  it('answers requests outside a session as the transport spec says', async () => {
    const noSession = await raw(mcp.url, { body: { jsonrpc: '2.0', id: 1, method: 'tools/list' } });
    expect(noSession.status).toBe(400);
    const unknown = await raw(mcp.url, {
      headers: { 'mcp-session-id': 'not-a-session' },
      body: { jsonrpc: '2.0', id: 1, method: 'tools/list' },
    });
    expect(unknown.status).toBe(404);
    const notJson = await raw(mcp.url, { body: undefined, headers: { 'content-length': '0' } });
    expect(notJson.status).toBe(400);
    expect(JSON.parse(notJson.body)).toMatchObject({ error: { code: -32700 } });
    const elsewhere = await raw(mcp.url.replace('/mcp', '/other'), { body: INIT });
    expect(elsewhere.status).toBe(404);
  });

  it('stops on SIGTERM, ending the bridge sessions it opened', async () => {
    const other = await startMcpHttp(agentArgs(bridge, 'claude-http-2'));
    const conn = await other.connect();
    await conn.call('status');
    expect(await bridgeSessions(admin, 'claude-http-2')).toHaveLength(1);
    other.proc.kill('SIGTERM');
    expect(await other.exited).toBe(0);
    expect(await bridgeSessions(admin, 'claude-http-2')).toHaveLength(0);
  });

  it('names a port that is taken and exits', async () => {
    const port = new URL(mcp.url).port;
    const clash = startMcpHttp([...agentArgs(bridge, 'clash'), '--http', port]);
    await expect(clash).rejects.toThrow(new RegExp(`port ${port} on 127.0.0.1 is in use`));
  });
});

describe('HTTP sessions that a client left behind', () => {
  let bridge: BridgeProcess;
  let serving: HttpServing;
  beforeAll(async () => {
    bridge = await startBridge();
    const config: McpServerConfig = {
      bridgeUrl: bridge.url,
      agentId: 'claude-idle',
      key: deriveAgentKey(bridge.secret, 'claude-idle'),
      keyFile: '(in memory)',
      role: 'agent',
      timeoutMs: 5000,
      httpPort: 0,
      warnings: [],
    };
    serving = await serveHttp(config, 0, { idleMs: 1000 });
  });
  afterAll(async () => {
    await serving?.close();
    await bridge?.stop();
  });

  it('are ended after the idle time, while a connected client (its event stream open) keeps its own', async () => {
    const transport = new StreamableHTTPClientTransport(new URL(serving.url));
    const client = new Client({ name: 'stays', version: '0' });
    await client.connect(transport);
    await client.callTool({ name: 'status', arguments: {} });

    // A client that initializes and goes away without DELETE.
    const res = await raw(serving.url, { headers: { host: new URL(serving.url).host }, body: INIT });
    const left = String(res.headers['mcp-session-id']);
    expect(serving.sessions()).toBe(2);
    await eventually(() => serving.sessions() === 1, 5000);
    const after = await raw(serving.url, {
      headers: { 'mcp-session-id': left },
      body: { jsonrpc: '2.0', id: 2, method: 'ping' },
    });
    expect(after.status).toBe(404);
    // The connected one is still served.
    expect((await client.callTool({ name: 'status', arguments: {} })).isError).toBeFalsy();
    await client.close();
  });
});
