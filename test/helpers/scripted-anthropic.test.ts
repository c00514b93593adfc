/**
 * The scripted Anthropic endpoint on its own, over real HTTP: the SSE stream a Messages client
 * assembles, which requests consume the script and which do not, and what it records. (That real
 * Claude Code accepts it is proven by test/e2e/claude-code.test.ts.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startScriptedAnthropic, type ScriptedAnthropic, type Turn } from './scripted-anthropic.js';

let server: ScriptedAnthropic | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});
const start = async (turns: Turn[]) => (server = await startScriptedAnthropic(turns));

const TOOLS = [{ name: 'Bash', input_schema: { type: 'object' } }];
const PROMPT = { role: 'user', content: [{ type: 'text', text: 'fix the bug' }] };

const post = (s: ScriptedAnthropic, path: string, body: unknown) =>
  fetch(`${s.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'dummy' },
    body: JSON.stringify(body),
  });

interface Sse {
  event: string;
  data: Record<string, unknown> & { type: string };
}

async function sse(res: Response): Promise<Sse[]> {
  expect(res.headers.get('content-type')).toBe('text/event-stream');
  return (await res.text())
    .split('\n\n')
    .filter((chunk) => chunk.trim() !== '')
    .map((chunk) => {
      const event = /^event: (.+)$/m.exec(chunk)?.[1] ?? '';
      const data = JSON.parse(/^data: (.+)$/m.exec(chunk)?.[1] ?? 'null') as Sse['data'];
      return { event, data };
    });
}

/** Assembles a streamed message as a Messages client does: text deltas joined, tool input JSON parsed. */
function assemble(events: Sse[]) {
  const blocks: Record<string, unknown>[] = [];
  const json: string[] = [];
  let stopReason: unknown;
  for (const { event, data } of events) {
    expect(data.type).toBe(event);
    const index = data.index as number;
    if (event === 'content_block_start') {
      blocks[index] = { ...(data.content_block as Record<string, unknown>) };
      json[index] = '';
    } else if (event === 'content_block_delta') {
      const delta = data.delta as { type: string; text?: string; partial_json?: string };
      if (delta.type === 'text_delta') blocks[index]!.text = String(blocks[index]!.text) + delta.text;
      else json[index] += delta.partial_json ?? '';
    } else if (event === 'content_block_stop' && blocks[index]!.type === 'tool_use') {
      blocks[index]!.input = JSON.parse(json[index]!);
    } else if (event === 'message_delta') {
      stopReason = (data.delta as { stop_reason: unknown }).stop_reason;
    }
  }
  return { blocks, stopReason };
}

describe('scripted Anthropic endpoint', () => {
  it('streams a turn as message_start, text and tool_use blocks with input_json_delta, message_delta, message_stop', async () => {
    const s = await start([
      {
        text: 'Let me look.',
        toolCalls: [{ name: 'Bash', input: { command: 'cat "a b.txt"' }, id: 'toolu_1' }],
      },
    ]);
    const events = await sse(
      await post(s, '/v1/messages?beta=true', { stream: true, tools: TOOLS, messages: [PROMPT] }),
    );
    expect(events[0]?.event).toBe('message_start');
    expect(events.at(-1)?.event).toBe('message_stop');
    // The tool input really arrives in pieces, as the API sends it.
    expect(
      events.filter((e) => (e.data.delta as { type?: string })?.type === 'input_json_delta').length,
    ).toBeGreaterThan(1);
    expect(assemble(events)).toEqual({
      blocks: [
        { type: 'text', text: 'Let me look.' },
        { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'cat "a b.txt"' } },
      ],
      stopReason: 'tool_use',
    });
  });

  it('answers without stream as one JSON message, ending the turn when there are no tool calls', async () => {
    const s = await start([{ text: 'Done.' }]);
    const res = await post(s, '/v1/messages', { tools: TOOLS, messages: [PROMPT], model: 'claude-x' });
    expect(await res.json()).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-x',
      content: [{ type: 'text', text: 'Done.' }],
      stop_reason: 'end_turn',
    });
  });

  it('gives a turn function the tool results of the previous turn and records them', async () => {
    const seen: unknown[] = [];
    const s = await start([
      { toolCalls: [{ name: 'Bash', input: { command: 'echo hi' }, id: 'toolu_a' }] },
      ({ toolResults, turn }) => {
        seen.push(
          turn,
          toolResults.map((r) => [r.toolUseId, r.isError, r.text]),
        );
        return { text: 'ok' };
      },
    ]);
    await (await post(s, '/v1/messages', { tools: TOOLS, messages: [PROMPT] })).text();
    const followUp = {
      tools: TOOLS,
      messages: [
        PROMPT,
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_a', name: 'Bash', input: {} }] },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'toolu_a',
              content: [{ type: 'text', text: 'hi' }],
              is_error: true,
            },
          ],
        },
      ],
    };
    await (await post(s, '/v1/messages', followUp)).text();
    expect(seen).toEqual([1, [['toolu_a', true, 'hi']]]);
    expect(s.toolResults().map((r) => r.text)).toEqual(['hi']);
    expect(s.mainRequests().map((r) => r.turn)).toEqual([0, 1]);
    expect(s.remaining()).toBe(0);
    expect(s.errors).toEqual([]);
  });

  it('answers side requests (no tools, or another conversation) without using up the script', async () => {
    const s = await start([{ text: 'the main answer' }]);
    const topic = await post(s, '/v1/messages', {
      system:
        'Analyze if this message indicates a new conversation topic. Respond in JSON with isNewTopic and title.',
      messages: [{ role: 'user', content: 'fix the bug' }],
    });
    expect(await topic.json()).toMatchObject({
      content: [{ type: 'text', text: '{"isNewTopic": false, "title": null}' }],
    });
    const quota = await post(s, '/v1/messages', {
      max_tokens: 1,
      messages: [{ role: 'user', content: 'quota' }],
    });
    expect(await quota.json()).toMatchObject({ stop_reason: 'end_turn' });
    // The main conversation starts: the script's turn.
    const main = await post(s, '/v1/messages', { tools: TOOLS, messages: [PROMPT] });
    expect(await main.json()).toMatchObject({ content: [{ type: 'text', text: 'the main answer' }] });
    // A sub-agent has tools but its own first message.
    const sub = await post(s, '/v1/messages', {
      tools: TOOLS,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'explore the code base' }] }],
    });
    expect(await sub.json()).toMatchObject({ content: [{ type: 'text', text: 'ok' }] });
    expect(s.requests.map((r) => r.kind)).toEqual(['side', 'side', 'main', 'side']);
    expect(s.errors).toEqual([]);
  });

  it('answers token counts, model lists and probes, and 404s the rest', async () => {
    const s = await start([]);
    const count = await post(s, '/v1/messages/count_tokens', { messages: [PROMPT] });
    expect(((await count.json()) as { input_tokens: number }).input_tokens).toBeGreaterThan(0);
    const models = (await (await fetch(`${s.url}/v1/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toContain('claude-sonnet-4-6');
    expect((await fetch(s.url, { method: 'HEAD' })).status).toBe(200);
    const other = await fetch(`${s.url}/v1/files`);
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    expect(s.requests.map((r) => r.kind)).toEqual(['count_tokens', 'models', 'probe', 'unknown']);
  });

  it('ends a run with a 400 and records why when the script runs out or a turn throws', async () => {
    const s = await start([
      () => {
        throw new Error('the tool result was not what the test expected');
      },
    ]);
    const thrown = await post(s, '/v1/messages', { tools: TOOLS, messages: [PROMPT] });
    expect(thrown.status).toBe(400);
    const over = await post(s, '/v1/messages', { tools: TOOLS, messages: [PROMPT] });
    expect(over.status).toBe(400);
    expect(await over.json()).toMatchObject({
      error: { message: 'scripted-anthropic: the script has no turn 2' },
    });
    expect(s.errors).toHaveLength(2);
    expect(s.errors[0]).toMatch(/turn 1 threw: Error: the tool result was not what the test expected/);
    expect(s.errors[1]).toBe("main request 2 after the script's 1 turns ran out");
  });
});
