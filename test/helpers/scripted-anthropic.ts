import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A scripted Anthropic Messages endpoint on loopback, for driving the real Claude Code CLI offline
 * (ANTHROPIC_BASE_URL). The main agent loop's requests consume a script of turns, one per request;
 * everything else Claude Code sends (quota probes, titles, command-prefix checks, sub-agents,
 * token counts, HEAD probes) gets a harmless answer without touching the script, so a test's script
 * holds exactly the model turns the test is about. Every request is recorded for assertions.
 */

/** A tool call the scripted model makes: Claude Code's own tools (Bash, Read, Edit, Write, ...) or mcp__server__tool. */
export interface ToolCall {
  name: string;
  input: Record<string, unknown>;
  /** The tool_use id; one is made up when absent. */
  id?: string;
}

/** What the model answers in one turn: text first, then tool calls (stop_reason tool_use when there are any). */
export interface Reply {
  text?: string;
  toolCalls?: ToolCall[];
}

/** A tool_result block as Claude Code sends it back, with its content flattened to text. */
export interface ToolResult {
  toolUseId: string;
  isError: boolean;
  /** The text of the result (string content, or its text blocks joined by newlines). */
  text: string;
  raw: unknown;
}

/** What a turn function sees: the main-loop request it answers. */
export interface TurnContext {
  /** 0-based index of this turn in the script. */
  turn: number;
  body: MessagesBody;
  /** The tool results of the last user message: what the previous turn's tool calls produced. */
  toolResults: ToolResult[];
}

export type Turn = Reply | ((ctx: TurnContext) => Reply | Promise<Reply>);

export type RequestKind =
  | 'main' // the agent loop: consumed a turn
  | 'side' // another model call (no tools, or a different conversation, e.g. a sub-agent)
  | 'count_tokens'
  | 'models'
  | 'probe' // HEAD / and other non-API probes
  | 'unknown';

export interface RecordedRequest {
  kind: RequestKind;
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON body, if it was JSON. */
  body: MessagesBody | undefined;
  /** For main requests: which turn answered it. */
  turn?: number;
  /** What was answered (status, and for model calls the reply). */
  status: number;
  reply?: Reply;
}

/** The parts of a Messages request the script looks at; the rest is kept as sent. */
export interface MessagesBody {
  model?: string;
  stream?: boolean;
  system?: string | { type: string; text?: string }[];
  tools?: { name: string }[];
  messages?: { role: string; content: string | ContentBlock[] }[];
  max_tokens?: number;
  [key: string]: unknown;
}

interface ContentBlock {
  type: string;
  text?: string;
  tool_use_id?: string;
  is_error?: boolean;
  content?: unknown;
  [key: string]: unknown;
}

export interface ScriptedAnthropicOptions {
  /** What side requests (not the agent loop) are answered with; default sideReply below. */
  side?: (body: MessagesBody) => string;
}

export interface ScriptedAnthropic {
  /** Base URL for ANTHROPIC_BASE_URL, e.g. http://127.0.0.1:41234 */
  url: string;
  requests: RecordedRequest[];
  /** The main-loop requests, in order (request i was answered by turn i). */
  mainRequests(): RecordedRequest[];
  /** Every tool result Claude Code sent back over the whole run, in order. */
  toolResults(): ToolResult[];
  /** How many turns of the script were not used (yet). */
  remaining(): number;
  /**
   * What went wrong on the server side: a turn function that threw, a main request after the
   * script ran out, a body that was not JSON. A test asserts this is empty.
   */
  errors: string[];
  close(): Promise<void>;
}

/** Flattens a tool_result's content (a string or text/image blocks) into the text the model reads. */
function resultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content
      .map((c: unknown) =>
        c && typeof c === 'object' && (c as ContentBlock).type === 'text'
          ? String((c as ContentBlock).text)
          : '',
      )
      .join('\n');
  return '';
}

/** The tool_result blocks of a request's last user message. */
export function toolResultsOf(body: MessagesBody | undefined): ToolResult[] {
  const last = body?.messages?.at(-1);
  if (!last || last.role !== 'user' || typeof last.content === 'string') return [];
  return last.content
    .filter((b) => b.type === 'tool_result')
    .map((b) => ({
      toolUseId: String(b.tool_use_id),
      isError: b.is_error === true,
      text: resultText(b.content),
      raw: b,
    }));
}

function systemText(body: MessagesBody): string {
  const s = body.system;
  if (typeof s === 'string') return s;
  return (s ?? []).map((b) => b.text ?? '').join('\n');
}

function firstUserText(body: MessagesBody): string {
  const first = body.messages?.find((m) => m.role === 'user');
  if (!first) return '';
  // Only the text: Claude Code moves its cache_control markers from request to request.
  return typeof first.content === 'string'
    ? first.content
    : first.content.map((b) => (b.type === 'text' ? (b.text ?? '') : '')).join('\n');
}

/**
 * Side requests are answered with text their callers accept: JSON where Claude Code asks for it
 * (topic detection, titles), "none" for the Bash command-prefix check (no prefix: nothing gets
 * pre-approved by it), and a short acknowledgement otherwise.
 */
export function sideReply(body: MessagesBody): string {
  const asked = `${systemText(body)}\n${firstUserText(body)}`;
  if (/isNewTopic/.test(asked)) return '{"isNewTopic": false, "title": null}';
  if (/command prefix|prefix of the command|<policy_spec>/i.test(asked)) return 'none';
  if (/\btitle\b/i.test(asked) && /json/i.test(asked)) return '{"title": "Scripted session"}';
  return 'ok';
}

let ids = 0;
const newId = (prefix: string) => `${prefix}_scripted_${(++ids).toString().padStart(6, '0')}`;

function usage(body: MessagesBody) {
  return {
    input_tokens: Math.max(1, Math.ceil(JSON.stringify(body.messages ?? []).length / 4)),
    output_tokens: 1,
  };
}

type Block =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

function blocksOf(reply: Reply): Block[] {
  const blocks: Block[] = [];
  if (reply.text !== undefined && reply.text !== '') blocks.push({ type: 'text', text: reply.text });
  for (const c of reply.toolCalls ?? [])
    blocks.push({ type: 'tool_use', id: c.id ?? newId('toolu'), name: c.name, input: c.input });
  // The API never sends an empty message; Claude Code treats one as an error.
  if (blocks.length === 0) blocks.push({ type: 'text', text: 'Done.' });
  return blocks;
}

/** Splits a string into n roughly equal pieces, so that deltas arrive in parts as the real API sends them. */
function pieces(s: string, n: number): string[] {
  if (s.length <= 1) return [s];
  const size = Math.ceil(s.length / n);
  const out: string[] = [];
  for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
  return out;
}

function sendMessage(res: http.ServerResponse, body: MessagesBody, reply: Reply): void {
  const blocks = blocksOf(reply);
  const stopReason = blocks.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn';
  const message = {
    id: newId('msg'),
    type: 'message',
    role: 'assistant',
    model: body.model ?? 'claude-scripted',
    stop_sequence: null,
  };
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json', 'request-id': newId('req') });
    res.end(JSON.stringify({ ...message, content: blocks, stop_reason: stopReason, usage: usage(body) }));
    return;
  }
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    'request-id': newId('req'),
  });
  const event = (type: string, data: Record<string, unknown>) =>
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  event('message_start', { message: { ...message, content: [], stop_reason: null, usage: usage(body) } });
  event('ping', {});
  blocks.forEach((block, index) => {
    if (block.type === 'text') {
      event('content_block_start', { index, content_block: { type: 'text', text: '' } });
      for (const text of pieces(block.text, 2))
        event('content_block_delta', { index, delta: { type: 'text_delta', text } });
    } else {
      event('content_block_start', {
        index,
        content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
      });
      for (const partial_json of pieces(JSON.stringify(block.input), 3))
        event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json } });
    }
    event('content_block_stop', { index });
  });
  event('message_delta', {
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: Math.max(1, Math.ceil(JSON.stringify(blocks).length / 4)) },
  });
  event('message_stop', {});
  res.end();
}

function sendError(res: http.ServerResponse, status: number, type: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ type: 'error', error: { type, message } }));
}

/** Starts the scripted endpoint on 127.0.0.1, port 0. */
export async function startScriptedAnthropic(
  script: Turn[],
  opts: ScriptedAnthropicOptions = {},
): Promise<ScriptedAnthropic> {
  const requests: RecordedRequest[] = [];
  const errors: string[] = [];
  let next = 0;
  // The agent loop's conversation is the one whose first main request came first; a request with
  // tools but another first message (a sub-agent) is a side request.
  let mainConversation: string | undefined;

  const isMain = (body: MessagesBody): boolean => {
    if (!body.tools || body.tools.length === 0) return false;
    const first = firstUserText(body);
    mainConversation ??= first;
    return first === mainConversation;
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, raw: string) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const rec: RecordedRequest = {
      kind: 'unknown',
      method: req.method ?? 'GET',
      path: url.pathname,
      headers: req.headers,
      body: undefined,
      status: 200,
    };
    requests.push(rec);
    if (raw !== '') {
      try {
        rec.body = JSON.parse(raw) as MessagesBody;
      } catch {
        errors.push(`${rec.method} ${rec.path}: body is not JSON`);
      }
    }
    const body = rec.body ?? {};
    if (rec.method === 'POST' && url.pathname === '/v1/messages/count_tokens') {
      rec.kind = 'count_tokens';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ input_tokens: usage(body).input_tokens }));
      return;
    }
    if (rec.method === 'GET' && url.pathname.startsWith('/v1/models')) {
      rec.kind = 'models';
      const model = (id: string) => ({
        type: 'model',
        id,
        display_name: id,
        created_at: '2025-01-01T00:00:00Z',
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      const ids = ['claude-sonnet-4-6', 'claude-opus-4-6', 'claude-haiku-4-5'];
      const one = url.pathname.slice('/v1/models/'.length);
      res.end(
        JSON.stringify(
          one
            ? model(decodeURIComponent(one))
            : { data: ids.map(model), has_more: false, first_id: ids[0], last_id: ids.at(-1) },
        ),
      );
      return;
    }
    if (rec.method === 'POST' && url.pathname === '/v1/messages') {
      if (!isMain(body)) {
        rec.kind = 'side';
        rec.reply = { text: (opts.side ?? sideReply)(body) };
        sendMessage(res, body, rec.reply);
        return;
      }
      rec.kind = 'main';
      const turn = next++;
      rec.turn = turn;
      const step = script[turn];
      if (step === undefined) {
        rec.status = 400;
        errors.push(`main request ${turn + 1} after the script's ${script.length} turns ran out`);
        sendError(
          res,
          400,
          'invalid_request_error',
          `scripted-anthropic: the script has no turn ${turn + 1}`,
        );
        return;
      }
      try {
        rec.reply =
          typeof step === 'function' ? await step({ turn, body, toolResults: toolResultsOf(body) }) : step;
      } catch (e) {
        rec.status = 400;
        errors.push(`turn ${turn + 1} threw: ${(e as Error).stack ?? String(e)}`);
        // 400 rather than 5xx: Claude Code retries server errors with backoff, but ends on a 400.
        sendError(res, 400, 'invalid_request_error', `scripted-anthropic: turn ${turn + 1} failed`);
        return;
      }
      sendMessage(res, body, rec.reply);
      return;
    }
    if (rec.method === 'HEAD' || (rec.method === 'GET' && !url.pathname.startsWith('/v1/'))) {
      // Claude Code preconnects with HEAD on the base URL.
      rec.kind = 'probe';
      res.writeHead(200);
      res.end();
      return;
    }
    rec.status = 404;
    sendError(res, 404, 'not_found_error', `scripted-anthropic: no ${rec.method} ${url.pathname}`);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((e: unknown) => {
        errors.push(`handler failed: ${String(e)}`);
        if (!res.headersSent)
          sendError(res, 400, 'invalid_request_error', 'scripted-anthropic: handler failed');
        else res.end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    errors,
    mainRequests: () => requests.filter((r) => r.kind === 'main'),
    toolResults: () => requests.filter((r) => r.kind === 'main').flatMap((r) => toolResultsOf(r.body)),
    remaining: () => Math.max(0, script.length - next),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
