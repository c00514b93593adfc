import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { Status } from '../../bridge-image/protocol/index.js';
import { startBridge, type BridgeProcess } from '../helpers/bridge-process.js';
import { agentArgs, connectMcp, eventually, textOf, type McpConnection } from './mcp-process.js';
import { RESTART_GRACE_MS } from '../../mcp-server/server.js';
import { TOOLS } from './tool-names.js';

/**
 * A TCP server that accepts connections and never answers: a bridge that hangs. It is not a stand-in
 * for the bridge's behaviour, only for its silence, which a real bridge cannot be made to produce.
 */
async function silentServer(): Promise<{ url: string; open: () => number; close: () => void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    // Read and drop the request, or the socket would never see the client hang up.
    s.resume();
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    open: () => sockets.size,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** A loopback port nobody listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the MCP server when the bridge is away or slow, and on shutdown', () => {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const track = <T extends McpConnection | BridgeProcess>(x: T): T => {
    cleanups.push(() => ('close' in x ? x.close() : x.stop()));
    return x;
  };

  it('a stopped bridge gives an error naming the URL and saying to start it, and the server stays up', async () => {
    const bridge = track(await startBridge());
    const mcp = track(await connectMcp(agentArgs(bridge, 'claude-1')));
    expect((await mcp.call('status')).isError).toBeFalsy();
    await bridge.stop();

    const started = Date.now();
    for (const tool of ['status', 'health', 'list_agents']) {
      const res = await mcp.call(tool);
      expect(res.isError, tool).toBe(true);
      expect(textOf(res), tool).toContain(`The Lighthouse bridge at ${bridge.url} is unreachable`);
      expect(textOf(res), tool).toContain('start it');
    }
    const stored = await mcp.call('store_event', { type: 'custom.lost' });
    expect(stored.isError).toBe(true);
    expect(textOf(stored)).toContain('unreachable');
    // Each call waits out a possible restart (RESTART_GRACE_MS), then answers: bounded, never a hang.
    expect(Date.now() - started).toBeLessThan(4 * (RESTART_GRACE_MS + 2000));
    // Still serving: the failure was a result, not a crash.
    expect((await mcp.client.listTools()).tools.length).toBe(TOOLS.length);
    expect(alive(mcp.transport.pid!)).toBe(true);
  });

  it('a tool call in flight while the bridge restarts waits for it and is carried out exactly once', async () => {
    const port = await closedPort();
    const first = track(await startBridge({ args: ['--port', String(port)] }));
    const mcp = track(await connectMcp(agentArgs(first, 'survivor')));
    expect((await mcp.call('status')).isError).toBeFalsy();
    await first.stop();
    const call = mcp.call('store_event', { type: 'custom.across_restart', data: { n: 1 } });
    await new Promise((r) => setTimeout(r, 1500));
    const second = track(
      await startBridge({ args: ['--port', String(port)], dataDir: first.dataDir, secret: first.secret }),
    );
    const res = await call;
    expect(res.isError, textOf(res)).toBeFalsy();
    const stored = await second.admin().query({ type: 'custom.across_restart' });
    expect(stored.events).toHaveLength(1);
  });

  it('starts without a bridge and works once one is reachable at that URL', async () => {
    const port = await closedPort();
    const secret = randomBytes(32);
    const mcp = track(
      await connectMcp(agentArgs({ url: `http://127.0.0.1:${port}`, secret }, 'early', 'agent')),
    );
    const res = await mcp.call('status');
    expect(res.isError).toBe(true);
    expect(textOf(res)).toContain(`http://127.0.0.1:${port} is unreachable`);

    const bridge = track(await startBridge({ secret, args: ['--port', String(port)] }));
    expect(bridge.port).toBe(port);
    const later = await mcp.call('status');
    expect(later.isError, textOf(later)).toBeFalsy();
    expect(Status.parse(later.structuredContent).you.agentId).toBe('early');
  });

  it('a bridge that does not answer times out after --timeout-ms with an error, not a hang', async () => {
    const silent = await silentServer();
    cleanups.push(silent.close);
    const mcp = track(
      await connectMcp([
        '--timeout-ms',
        '300',
        ...agentArgs({ url: silent.url, secret: randomBytes(32) }, 'a1'),
      ]),
    );
    const started = Date.now();
    const res = await mcp.call('status');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(res.isError).toBe(true);
    expect(textOf(res)).toContain(`The Lighthouse bridge at ${silent.url} did not answer in time`);
    expect(textOf(res)).toContain('300 ms');
  });

  it('cancelling a tool call aborts its bridge request', async () => {
    const silent = await silentServer();
    cleanups.push(silent.close);
    const mcp = track(
      await connectMcp([
        '--timeout-ms',
        '60000',
        ...agentArgs({ url: silent.url, secret: randomBytes(32) }, 'a2'),
      ]),
    );
    const ac = new AbortController();
    const pending = mcp.call('status', {}, ac.signal);
    await eventually(() => silent.open() === 1);
    ac.abort();
    await expect(pending).rejects.toThrow();
    // The server got the cancellation and dropped its request long before the 60 s timeout.
    await eventually(() => silent.open() === 0, 3000);
  });

  it('closing stdin ends the bridge session and the process', async () => {
    const bridge = track(await startBridge());
    const admin = bridge.admin();
    const mcp = await connectMcp(agentArgs(bridge, 'closer'));
    const { sessionId } = Status.parse((await mcp.call('status')).structuredContent).you;
    const pid = mcp.transport.pid!;
    expect((await admin.listSessions()).sessions.map((s) => s.sessionId)).toContain(sessionId);

    await mcp.close();
    await eventually(() => !alive(pid));
    const after = await admin.listSessions();
    expect(after.sessions.map((s) => s.sessionId)).not.toContain(sessionId);
    expect(bridge.stderr()).not.toMatch(/"level":"error"/);
  });

  it('SIGTERM ends the bridge session and the process', async () => {
    const bridge = track(await startBridge());
    const admin = bridge.admin();
    const mcp = track(await connectMcp(agentArgs(bridge, 'termed')));
    const { sessionId } = Status.parse((await mcp.call('status')).structuredContent).you;
    const pid = mcp.transport.pid!;

    process.kill(pid, 'SIGTERM');
    await eventually(() => !alive(pid));
    expect((await admin.listSessions()).sessions.map((s) => s.sessionId)).not.toContain(sessionId);
    expect(mcp.stderr()).toContain('stopping (SIGTERM)');
  });
});
