import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** An agent as Claude Code would run it: the command and arguments of a `.mcp.json` entry, over stdio. */
export interface McpAgent {
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
  stderr(): string;
}

export async function startAgent(
  entry: { command: string; args: string[] },
  node: string,
): Promise<McpAgent> {
  // `.mcp.json` says "node"; here that is the Node running this extension host.
  const command = entry.command === 'node' ? node : entry.command;
  const transport = new StdioClientTransport({
    command,
    args: entry.args,
    env: { PATH: process.env.PATH ?? '', ELECTRON_RUN_AS_NODE: '1' },
    stderr: 'pipe',
  });
  let err = '';
  transport.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const client = new Client({ name: 'lighthouse-e2e-agent', version: '0.0.0' });
  await client.connect(transport);
  return {
    call: async (name, args = {}) => (await client.callTool({ name, arguments: args })) as CallToolResult,
    close: () => client.close(),
    stderr: () => err,
  };
}

export function textOf(r: CallToolResult): string {
  return r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}
