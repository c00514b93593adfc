import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { deriveAgentKey } from '../../bridge-image/protocol/index.js';
import { tempDir } from '../helpers/bridge-process.js';
import { exitOf, listeningUrl } from '../helpers/listening.js';

/** The built MCP server; the tests assume `npm run build` ran, as the bridge tests do. */
export const MCP_JS = path.resolve(__dirname, '../../dist/mcp-server.js');

/** Writes the agent's key (derived from the bridge's master secret) to a 0600 file, as the extension would. */
export function writeAgentKey(secret: Buffer, agentId: string, dir = tempDir('lh-mcp-')): string {
  const file = path.join(dir, `${agentId}.key`);
  fs.writeFileSync(file, deriveAgentKey(secret, agentId).toString('hex'), { mode: 0o600 });
  return file;
}

/** The arguments that point an MCP server at a bridge as the given agent. */
export function agentArgs(
  bridge: { url: string; secret: Buffer },
  agentId: string,
  role: 'agent' | 'expert' = 'agent',
): string[] {
  return [
    '--bridge',
    bridge.url,
    '--agent',
    agentId,
    '--key-file',
    writeAgentKey(bridge.secret, agentId),
    '--role',
    role,
  ];
}

export interface McpConnection<T = StdioClientTransport> {
  client: Client;
  transport: T;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /** Calls a tool and returns its result in the SDK's own result shape. */
  call(name: string, args?: Record<string, unknown>, signal?: AbortSignal): Promise<CallToolResult>;
  close(): Promise<void>;
}

/**
 * Starts `node dist/mcp-server.js` under the real SDK client over real stdio. The environment is
 * given explicitly so that LIGHTHOUSE_* variables of whoever runs the tests cannot leak in.
 */
export async function connectMcp(args: string[], env: Record<string, string> = {}): Promise<McpConnection> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [MCP_JS, ...args],
    env: { PATH: process.env.PATH ?? '', ...env },
    stderr: 'pipe',
  });
  let err = '';
  transport.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const client = new Client({ name: 'lighthouse-tests', version: '0.0.0' });
  await client.connect(transport);
  return {
    client,
    transport,
    stderr: () => err,
    call: async (name, toolArgs = {}, signal) =>
      CallToolResultSchema.parse(
        await client.callTool({ name, arguments: toolArgs }, undefined, signal ? { signal } : undefined),
      ),
    close: () => client.close(),
  };
}

/** The text blocks of a tool result, joined: what a model reads. */
export function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

/** Polls until `check` holds, for effects that arrive asynchronously (a process exiting, a session ending). */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface McpHttpProcess {
  /** e.g. http://127.0.0.1:43117/mcp, from the server's "listening on" log line. */
  url: string;
  proc: ChildProcess;
  stderr(): string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  /** A real SDK client over Streamable HTTP: a session of its own. */
  connect(name?: string): Promise<McpConnection<StreamableHTTPClientTransport>>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** Starts `node dist/mcp-server.js --http 0 ...` and waits for the URL it listens on. */
export async function startMcpHttp(
  args: string[],
  env: Record<string, string> = {},
): Promise<McpHttpProcess> {
  const proc = spawn(process.execPath, [MCP_JS, '--http', '0', ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const exited = exitOf(proc);
  const url = await listeningUrl(
    'lighthouse-mcp',
    () => err,
    /listening on (http:\/\/127\.0\.0\.1:\d+\/mcp)/,
    exited,
  );
  const connections: McpConnection<StreamableHTTPClientTransport>[] = [];
  return {
    url,
    proc,
    stderr: () => err,
    exited,
    async connect(name = 'lighthouse-tests') {
      const transport = new StreamableHTTPClientTransport(new URL(url));
      const client = new Client({ name, version: '0.0.0' });
      await client.connect(transport);
      const conn: McpConnection<StreamableHTTPClientTransport> = {
        client,
        transport,
        stderr: () => err,
        call: async (tool, toolArgs = {}, signal) =>
          CallToolResultSchema.parse(
            await client.callTool(
              { name: tool, arguments: toolArgs },
              undefined,
              signal ? { signal } : undefined,
            ),
          ),
        close: () => client.close(),
      };
      connections.push(conn);
      return conn;
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      await Promise.allSettled(connections.map((c) => c.close()));
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}
