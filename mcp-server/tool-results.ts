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
 * A successful result whose text is meant to be read as it is (file contents, diffs, search hits,
 * a tree): the structured value as usual, but the text blocks carry the readable rendering instead
 * of the JSON, where escaped newlines would make source code hard for a model to read.
 */
export function toolText(structured: Record<string, unknown>, ...texts: string[]): CallToolResult {
  return { content: texts.map((text) => ({ type: 'text', text })), structuredContent: structured };
}

/** "1 file", "3 files": counts in notes a model reads. */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}

/** A refusal decided by the MCP server itself (e.g. an edit that matches twice), with what to do instead. */
export function toolError(text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }] };
}

export interface BridgeCallOptions {
  /** Appended when the bridge answers 404 not_found, e.g. "list_leases shows the live leases". */
  notFoundHint?: string;
  /** Appended when the bridge answers 403 forbidden, e.g. which role or capability is needed. */
  forbiddenHint?: string;
  /** Appended when the bridge answers 400 or 409 conflict, e.g. where to see the current state. */
  conflictHint?: string;
  /** Appended when the bridge carried the call out but lost its answer (reply_lost): where it shows. */
  doneHint?: string;
}

/**
 * Runs one tool's bridge calls. A failure becomes an `isError` result that the model can read and
 * act on, rather than a protocol error that most clients show as a bare "tool failed".
 */
export async function withBridge(
  client: BridgeClient,
  run: () => Promise<CallToolResult>,
  opts: BridgeCallOptions = {},
): Promise<CallToolResult> {
  try {
    return await run();
  } catch (err) {
    const text = describeFailure(err, {
      bridgeUrl: client.baseUrl.origin,
      agentId: client.agentId,
      notFoundHint: opts.notFoundHint,
      forbiddenHint: opts.forbiddenHint,
      conflictHint: opts.conflictHint,
      doneHint: opts.doneHint,
    });
    // Bridge errors are expected and explained to the model; anything else is a bug worth a log line.
    if (!(err instanceof BridgeError))
      logLine(`unexpected tool failure: ${(err as Error).stack ?? String(err)}`);
    return toolError(text);
  }
}
