import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LoggingMessageNotificationSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { AgentList, EventPage, type BridgeClient } from '../../bridge-image/protocol/index.js';
import { startBridge, type BridgeProcess } from '../helpers/bridge-process.js';
import { agentArgs, connectMcp, eventually, type McpConnection } from './mcp-process.js';

const AGENT = 'claude-res';
const BINARY = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02, 0xff]);

function textContent(res: { contents: { uri: string; text?: unknown; blob?: unknown }[] }): string {
  const c = res.contents[0]!;
  expect(typeof c.text).toBe('string');
  return c.text as string;
}

describe('the MCP server resources and notifications against a real bridge', () => {
  let bridge: BridgeProcess;
  let mcp: McpConnection;
  let admin: BridgeClient;
  const updated: string[] = [];
  const logged: { level: string; data: unknown }[] = [];

  beforeAll(async () => {
    bridge = await startBridge();
    admin = bridge.admin();
    await admin.status(); // the admin's own session makes it an agent too; open it before comparing
    mcp = await connectMcp(agentArgs(bridge, AGENT));
    mcp.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      updated.push(n.params.uri);
    });
    mcp.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      logged.push({ level: n.params.level, data: n.params.data });
    });
  });
  afterAll(async () => {
    await mcp?.close();
    await bridge?.stop();
  });

  it('declares resources with subscriptions and logging', () => {
    const caps = mcp.client.getServerCapabilities();
    expect(caps?.resources).toMatchObject({ subscribe: true, listChanged: true });
    expect(caps?.logging).toBeDefined();
  });

  it('lists the two resources and the shadow template', async () => {
    const { resources } = await mcp.client.listResources();
    expect(resources.map((r) => r.uri)).toEqual(['lighthouse://agents', 'lighthouse://events/recent']);
    for (const r of resources) expect(r.mimeType).toBe('application/json');
    const { resourceTemplates } = await mcp.client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual(['lighthouse://shadow/{+path}']);
  });

  it('lighthouse://agents is the agent list the bridge holds', async () => {
    await mcp.call('status'); // opens the session, so this agent is among them
    const res = await mcp.client.readResource({ uri: 'lighthouse://agents' });
    expect(res.contents[0]).toMatchObject({ uri: 'lighthouse://agents', mimeType: 'application/json' });
    const seen = AgentList.parse(JSON.parse(textContent(res)));
    const truth = await admin.listAgents();
    const ids = (l: AgentList) => l.agents.map((a) => a.agentId).sort();
    expect(ids(seen)).toEqual(ids(truth));
    expect(ids(seen)).toContain(AGENT);
  });

  it('lighthouse://events/recent is the newest 100 events, newest first', async () => {
    const other = bridge.agent('other-res');
    for (let i = 0; i < 3; i++) {
      await other.append({
        events: Array.from({ length: 50 }, (_, j) => ({ type: 'custom.filler', data: { i, j } })),
      });
    }
    const res = await mcp.client.readResource({ uri: 'lighthouse://events/recent' });
    const page = EventPage.parse(JSON.parse(textContent(res)));
    expect(page.events).toHaveLength(100);
    const seqs = page.events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    // The same events an admin sees up to the newest one the resource holds.
    const truth = await admin.query({ order: 'desc', limit: 100, before: seqs[0]! + 1 });
    expect(page.events).toEqual(truth.events);
  });

  it('lighthouse://shadow/{+path} reads text as text and binary as a base64 blob, from the own shadow', async () => {
    const self = bridge.agent(AGENT);
    await self.writeFile('src/deep/a file.ts', 'export const x = 1;\n');
    await self.writeFile('assets/pic.bin', BINARY);

    const uri = 'lighthouse://shadow/src/deep/a%20file.ts';
    const text = await mcp.client.readResource({ uri });
    expect(text.contents[0]).toMatchObject({ uri, mimeType: 'text/plain' });
    const truth = await admin.readFile('src/deep/a file.ts', { agent: AGENT });
    expect(textContent(text)).toBe(truth.toString('utf8'));

    const bin = await mcp.client.readResource({ uri: 'lighthouse://shadow/assets/pic.bin' });
    const c = bin.contents[0]!;
    expect(c.mimeType).toBe('application/octet-stream');
    const blob = 'blob' in c ? c.blob : undefined;
    expect(typeof blob).toBe('string');
    expect(Buffer.from(blob!, 'base64')).toEqual(await admin.readFile('assets/pic.bin', { agent: AGENT }));
    expect(Buffer.from(blob!, 'base64')).toEqual(BINARY);
  });

  it('a missing file, a refused path or an unknown resource is a protocol error that says why', async () => {
    await expect(mcp.client.readResource({ uri: 'lighthouse://shadow/nope/missing.txt' })).rejects.toThrow(
      /-32002.*no such file: nope\/missing.txt/,
    );
    await expect(mcp.client.readResource({ uri: 'lighthouse://shadow/src%5Cevil.ts' })).rejects.toThrow(
      /refused the path/,
    );
    await expect(mcp.client.readResource({ uri: 'lighthouse://nothing' })).rejects.toThrow(/not found/);
  });

  it('after resources/subscribe, another agent appending an event sends resources/updated', async () => {
    await mcp.client.subscribeResource({ uri: 'lighthouse://events/recent' });
    updated.length = 0;
    await bridge.agent('other-res').append({ events: [{ type: 'custom.ping', data: null }] });
    await eventually(() => updated.includes('lighthouse://events/recent'));
    // Not subscribed: not told.
    expect(updated).not.toContain('lighthouse://agents');
  });

  it('a subscribed shadow file is updated when this agent changes it, and not for other agents', async () => {
    const uri = 'lighthouse://shadow/src/deep/a%20file.ts';
    await mcp.client.subscribeResource({ uri });
    updated.length = 0;
    await bridge.agent('other-res').writeFile('src/deep/a file.ts', 'other\n');
    await eventually(() => updated.includes('lighthouse://events/recent'));
    expect(updated).not.toContain(uri);
    await mcp.call('write_file', { path: 'src/deep/a file.ts', content: 'export const x = 2;\n' });
    await eventually(() => updated.includes(uri));
    const res = await mcp.client.readResource({ uri });
    expect(textContent(res)).toBe('export const x = 2;\n');
  });

  it('agents is updated on agent and session events once subscribed; unsubscribe stops updates', async () => {
    await mcp.client.subscribeResource({ uri: 'lighthouse://agents' });
    updated.length = 0;
    const newcomer = bridge.agent('newcomer');
    await newcomer.registerAgent({});
    await eventually(() => updated.includes('lighthouse://agents'));

    await mcp.client.unsubscribeResource({ uri: 'lighthouse://events/recent' });
    await mcp.client.unsubscribeResource({ uri: 'lighthouse://agents' });
    updated.length = 0;
    await bridge.agent('other-res').append({ events: [{ type: 'custom.ping', data: null }] });
    await new Promise((r) => setTimeout(r, 300));
    expect(updated).not.toContain('lighthouse://events/recent');
    expect(logged).toEqual([]);
  });
});

describe('resources/list and notifications/resources/list_changed', () => {
  let bridge: BridgeProcess;
  let mcp: McpConnection;
  let listChanged = 0;
  const AGENT2 = 'claude-list';
  const shadowListed = async () =>
    (await mcp.client.listResources()).resources
      .map((r) => r.uri)
      .filter((u) => u.startsWith('lighthouse://shadow/'));
  /** Waits long enough for a notification that should not come (the server coalesces for 20 ms). */
  const quiet = () => new Promise((r) => setTimeout(r, 400));

  beforeAll(async () => {
    bridge = await startBridge();
    mcp = await connectMcp(agentArgs(bridge, AGENT2));
    mcp.client.setNotificationHandler(ResourceListChangedNotificationSchema, () => void listChanged++);
  });
  afterAll(async () => {
    await mcp?.close();
    await bridge?.stop();
  });

  it('lists the files this agent changed, told again whenever that set changes', async () => {
    expect(await shadowListed()).toEqual([]);
    await mcp.call('write_file', { path: 'src/new file.ts', content: 'a\n' });
    await eventually(() => listChanged === 1);
    expect(await shadowListed()).toEqual(['lighthouse://shadow/src/new%20file.ts']);
    const { resources } = await mcp.client.listResources();
    expect(resources.find((r) => r.uri.endsWith('new%20file.ts'))).toMatchObject({ name: 'src/new file.ts' });

    // Changing a listed file again changes no listing: no notification.
    await mcp.call('write_file', { path: 'src/new file.ts', content: 'b\n' });
    await quiet();
    expect(listChanged).toBe(1);

    // Nor do other agents' changes, which are in their shadows, not this one.
    await bridge.agent('someone-else').writeFile('theirs.txt', 'x');
    await quiet();
    expect(listChanged).toBe(1);

    await mcp.call('move_file', { from: 'src/new file.ts', to: 'src/moved.ts' });
    await eventually(() => listChanged === 2);
    expect(await shadowListed()).toEqual(['lighthouse://shadow/src/moved.ts']);

    await mcp.call('write_file', { path: 'b.txt', content: 'b' });
    await eventually(() => listChanged === 3);
    await mcp.call('delete_file', { path: 'b.txt' });
    await eventually(() => listChanged === 4);
    expect(await shadowListed()).toEqual(['lighthouse://shadow/src/moved.ts']);

    // The developer applies the agent's changes: its shadow lists nothing any more.
    await bridge.admin().applyShadow({ agentId: AGENT2, paths: ['src/moved.ts'] });
    await eventually(() => listChanged === 5);
    expect(await shadowListed()).toEqual([]);
  });

  it('a file deleted in the shadow is not listed (it cannot be read), and the list survives no bridge', async () => {
    fs.writeFileSync(path.join(bridge.workspace, 'base.txt'), 'in the workspace\n');
    await mcp.call('delete_file', { path: 'base.txt' });
    await quiet();
    expect(listChanged).toBe(5);
    expect(await shadowListed()).toEqual([]);
    const changes = await bridge.agent(AGENT2).changes();
    expect(changes.changes.map((c) => [c.path, c.status])).toEqual([['base.txt', 'deleted']]);

    await bridge.stop();
    // Bridge gone: the fixed resources are still listed, and the reason goes to the log.
    const { resources } = await mcp.client.listResources();
    expect(resources.map((r) => r.uri)).toEqual(['lighthouse://agents', 'lighthouse://events/recent']);
    expect(mcp.stderr()).toMatch(/resources\/list leaves out your changed files: .*unreachable/);
  }, 30_000);
});

describe('resource updates across a bridge restart', () => {
  let bridge: BridgeProcess | undefined;
  let mcp: McpConnection | undefined;
  afterAll(async () => {
    await mcp?.close();
    await bridge?.stop();
  });

  it('logs the lost connection and its return through MCP logging, and updates resume', async () => {
    const first = await startBridge();
    bridge = first;
    const conn = await connectMcp(agentArgs(first, AGENT));
    mcp = conn;
    const updated: string[] = [];
    const logged: { level: string; data: unknown }[] = [];
    conn.client.setNotificationHandler(
      ResourceUpdatedNotificationSchema,
      (n) => void updated.push(n.params.uri),
    );
    conn.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      logged.push({ level: n.params.level, data: n.params.data });
    });
    await conn.client.subscribeResource({ uri: 'lighthouse://events/recent' });

    await first.stop();
    await eventually(() =>
      logged.some((l) => l.level === 'warning' && /lost the connection/.test(String(l.data))),
    );

    bridge = await startBridge({
      dataDir: first.dataDir,
      secret: first.secret,
      args: ['--port', String(first.port)],
    });
    await eventually(() => logged.some((l) => l.level === 'info' && /is back/.test(String(l.data))), 20_000);
    updated.length = 0;
    await bridge.agent('other-res').append({ events: [{ type: 'custom.after_restart', data: null }] });
    await eventually(() => updated.includes('lighthouse://events/recent'));
  }, 40_000);
});
