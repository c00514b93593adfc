import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { BridgeClient } from '../bridge-image/protocol/index.js';
import { BridgeError } from '../bridge-image/protocol/index.js';
import { describeFailure } from './bridge-errors.js';
import { logLine } from './log.js';

/**
 * A successful result: the structured value for clients that read `structuredContent`, and the
 * same JSON as text for those that only read `content` (the MCP spec asks for both).
 */
export function toolSuccess(structured: Record<string, unknown>, note?: string): CallToolResult {
  const content: CallToolResult['content'] = [{ type: 'text', text: JSON.stringify(structured, null, 2) }];
  if (note) content.push({ type: 'text', text: note });
  return { content, structuredContent: structured };
}

/**
 * Runs one tool's bridge calls. A failure becomes an `isError` result that the model can read and
 * act on, rather than a protocol error that most clients show as a bare "tool failed".
 */
export async function withBridge(
  client: BridgeClient,
  run: () => Promise<CallToolResult>,
): Promise<CallToolResult> {
  try {
    return await run();
  } catch (err) {
    const text = describeFailure(err, { bridgeUrl: client.baseUrl.origin, agentId: client.agentId });
    // Bridge errors are expected and explained to the model; anything else is a bug worth a log line.
    if (!(err instanceof BridgeError))
      logLine(`unexpected tool failure: ${(err as Error).stack ?? String(err)}`);
    return { isError: true, content: [{ type: 'text', text }] };
  }
}
