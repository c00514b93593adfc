import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppendResponse } from '../../bridge-image/protocol/index.js';
import { startBridge, type BridgeProcess } from '../helpers/bridge-process.js';
import { MCP_JS, writeAgentKey } from './mcp-process.js';
import { TOOLS } from './tool-names.js';

const INSPECTOR_BUILD = path.resolve(
  __dirname,
  '../../node_modules/@modelcontextprotocol/inspector-cli/build',
);

/**
 * Runs `mcp-inspector-cli --cli node dist/mcp-server.js ...`. Its working directory is the
 * inspector's own build folder: inspector-cli 1.0.3 checks for `../package.json` relative to the
 * working directory but imports it relative to its module (modelcontextprotocol/inspector#1334),
 * so from anywhere else it fails with ERR_MODULE_NOT_FOUND before talking to the server.
 */
async function inspector(args: string[], env: Record<string, string>): Promise<unknown> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [path.join(INSPECTOR_BUILD, 'cli.js'), '--cli', process.execPath, MCP_JS, ...args],
    { cwd: INSPECTOR_BUILD, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 },
  );
  return JSON.parse(stdout);
}

describe('the MCP server under @modelcontextprotocol/inspector-cli', () => {
  let bridge: BridgeProcess;
  let env: Record<string, string>;

  beforeAll(async () => {
    bridge = await startBridge();
    // Configured through the environment only, as an MCP client config file would do it.
    env = {
      LIGHTHOUSE_BRIDGE_URL: bridge.url,
      LIGHTHOUSE_AGENT_ID: 'inspected',
      LIGHTHOUSE_KEY_FILE: writeAgentKey(bridge.secret, 'inspected'),
    };
  });
  afterAll(async () => {
    await bridge?.stop();
  });

  it('tools/list shows every tool with its schemas and annotations', async () => {
    const out = (await inspector(['--method', 'tools/list'], env)) as {
      tools: { name: string; outputSchema?: unknown; annotations?: { openWorldHint?: boolean } }[];
    };
    expect(out.tools.map((t) => t.name).sort()).toEqual([...TOOLS].sort());
    for (const t of out.tools) {
      expect(t.outputSchema, t.name).toBeDefined();
      expect(t.annotations?.openWorldHint, t.name).toBe(false);
    }
  });

  it('tools/call store_event stores an event the bridge then holds', async () => {
    const out = (await inspector(
      [
        '--method',
        'tools/call',
        '--tool-name',
        'store_event',
        '--tool-arg',
        'type=custom.inspected',
        'data={"ok":true}',
      ],
      env,
    )) as { isError?: boolean; structuredContent?: unknown };
    expect(out.isError).toBeFalsy();
    const appended = AppendResponse.parse(out.structuredContent);
    expect(appended.stream).toBe('agent:inspected');
    const truth = await bridge.admin().query({ type: 'custom.inspected' });
    expect(truth.events).toHaveLength(1);
    expect(truth.events[0]).toMatchObject({
      seq: appended.events[0]!.seq,
      agentId: 'inspected',
      data: { ok: true },
    });
  });
});
