import parsePrometheus from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { BridgeClient, deriveAgentKey, type Event } from '../../../bridge-image/protocol/index.js';
import { startBridge, type BridgeProcess } from '../../helpers/bridge-process.js';

let b: BridgeProcess;
beforeAll(async () => {
  // Long enough that the flood below fits in it on a loaded machine (a paused reader is "stalled"
  // from the moment the bridge's buffer is full), short enough for the stalled-reader test.
  b = await startBridge({ args: ['--slow-consumer-ms', '3000'] });
});
afterAll(async () => {
  await b.stop();
});

async function gauge(name: string): Promise<number> {
  const text = await (await fetch(`${b.url}/metrics`)).text();
  const f = parsePrometheus(text).find((x) => x.name === name);
  return Number(f!.metrics[0]!.value);
}

async function appendMany(c: BridgeClient, batches: number, perBatch: number, pad = 0) {
  for (let i = 0; i < batches; i++) {
    await c.append({
      events: Array.from({ length: perBatch }, (_, j) => ({
        type: 'custom.load',
        data: { i, j, pad: 'p'.repeat(pad) },
      })),
    });
  }
}

describe('/v1/stream subscriptions', () => {
  it('a subscriber joining from seq N during appends receives every later event exactly once, in order', async () => {
    const writer = b.agent('writer');
    await appendMany(writer, 20, 50);
    const joinAt = (await writer.query({ order: 'desc', limit: 1 })).lastSeq - 300;
    let stop = false;
    const writing = (async () => {
      let n = 0;
      while (!stop) {
        await Promise.all(
          Array.from({ length: 8 }, () =>
            writer.append({ events: [{ type: 'custom.live', data: { n: n++ } }] }),
          ),
        );
      }
    })();
    const got: Event[] = [];
    let caughtUp = -1;
    const sub = b
      .agent('reader')
      .subscribe({ after: joinAt, onEvent: (e) => got.push(e), onCaughtUp: (s) => (caughtUp = s) });
    await new Promise((r) => setTimeout(r, 1500));
    stop = true;
    await writing;
    const head = (await writer.query({ order: 'desc', limit: 1 })).lastSeq;
    const deadline = Date.now() + 10_000;
    while (got[got.length - 1]?.seq !== head && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    sub.close();
    expect(caughtUp).toBeGreaterThan(joinAt);
    expect(head - caughtUp).toBeGreaterThan(0); // live events really arrived after the switch
    const seqs = got.map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: head - joinAt }, (_, i) => joinAt + 1 + i));
  });

  it('filters by type and stream', async () => {
    const c = b.agent('filtered');
    const start = (await c.query({ order: 'desc', limit: 1 })).lastSeq;
    const got: Event[] = [];
    const sub = c.subscribe({
      after: start,
      filter: { types: ['custom.wanted'] },
      onEvent: (e) => got.push(e),
    });
    await c.append({ events: [{ type: 'custom.unwanted' }, { type: 'custom.wanted', data: 1 }] });
    await c.append({ events: [{ type: 'custom.wanted', data: 2 }] });
    const deadline = Date.now() + 5000;
    while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    sub.close();
    expect(got.map((e) => e.data)).toEqual([1, 2]);
  });

  it('refuses a malformed message naming the field, and keeps the connection serving', async () => {
    const c = b.agent('malformed');
    const ws = new WebSocket(b.url.replace('http', 'ws') + '/v1/stream', {
      headers: await c.signedHeaders('GET', '/v1/stream'),
    });
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    const replies: { type: string; code?: string; message?: string }[] = [];
    ws.on('message', (d: Buffer) => replies.push(JSON.parse(d.toString()) as (typeof replies)[number]));
    ws.send(JSON.stringify({ type: 'subscribe', id: 'bad', filter: { types: ['custom.ok', 7] } }));
    ws.send(JSON.stringify({ type: 'subscribe', id: 'good', after: 0, filter: { types: ['custom.none'] } }));
    const deadline = Date.now() + 5000;
    while (replies.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    ws.close();
    expect(replies[0]).toMatchObject({ type: 'error', code: 'invalid_request' });
    expect(replies[0]!.message).toMatch(/^invalid message: filter\.types\[1\]: /);
    expect(replies[1]).toMatchObject({ type: 'caught-up' });
  });

  it('bounds memory for a consumer that stops reading, then delivers everything once it reads again', async () => {
    const c = b.agent('slowpoke');
    const from = (await c.query({ order: 'desc', limit: 1 })).lastSeq;
    const url = b.url.replace('http', 'ws') + '/v1/stream';
    const ws = new WebSocket(url, {
      headers: await c.signedHeaders('GET', '/v1/stream'),
      maxPayload: 64 << 20,
    });
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    const seqs: number[] = [];
    ws.on('message', (d: Buffer) => {
      const m = JSON.parse(d.toString()) as { type: string; event?: Event };
      if (m.type === 'event') seqs.push(m.event!.seq);
    });
    ws.send(JSON.stringify({ type: 'subscribe', id: 'slow', after: from }));
    await new Promise((r) => setTimeout(r, 100));
    // Stop reading: the kernel buffers fill, then the bridge's send buffer.
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    let peak = 0;
    const flood = b.agent('flood');
    for (let i = 0; i < 6; i++) {
      await appendMany(flood, 10, 500, 1000); // 30,000 events in all, about 33 MB of JSON
      peak = Math.max(peak, await gauge('lighthouse_ws_buffered_bytes'));
    }
    // Pushing everything would queue all 33 MB; the bridge stops near its 4 MB high-water mark.
    expect(peak).toBeGreaterThan(1024 * 1024);
    expect(peak).toBeLessThan(4 * 1024 * 1024 + 64 * 1024);
    const head = (await c.query({ order: 'desc', limit: 1 })).lastSeq;
    (ws as unknown as { _socket: { resume(): void } })._socket.resume();
    const deadline = Date.now() + 20_000;
    while (seqs[seqs.length - 1] !== head && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    ws.close();
    expect(seqs.length).toBe(head - from);
    expect(seqs.every((s, i) => s === from + 1 + i)).toBe(true);
  });

  it('disconnects a consumer stalled longer than the limit, with a reason in the log', async () => {
    const c = b.agent('stalled');
    const from = (await c.query({ order: 'desc', limit: 1 })).lastSeq;
    const ws = new WebSocket(b.url.replace('http', 'ws') + '/v1/stream', {
      headers: await c.signedHeaders('GET', '/v1/stream'),
    });
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    ws.send(JSON.stringify({ type: 'subscribe', id: 'stall', after: 0 }));
    const closed = new Promise<void>((r) => ws.once('close', () => r()));
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    await appendMany(b.agent('flood2'), 20, 500, 1000);
    expect(from).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 4500));
    expect(b.stderr()).toContain('slow consumer disconnected');
    (ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await closed;
    expect(await gauge('lighthouse_ws_buffered_bytes')).toBe(0);
  });
});

describe('a subscription across a bridge restart', () => {
  it('reconnects with a new session and resumes after the last event it saw, losing nothing', async () => {
    const port = (await import('../../helpers/docker.js')).freePort;
    const p = await port();
    const first = await startBridge({ args: ['--port', String(p)] });
    const writer = first.agent('w');
    await writer.append({ events: [{ type: 'custom.before' }] });
    const got: Event[] = [];
    // Not first.agent(): the helper closes the clients it made when that bridge stops.
    const reader = new BridgeClient({
      baseUrl: first.url,
      agentId: 'reader',
      key: deriveAgentKey(first.secret, 'reader'),
    });
    const sub = reader.subscribe({ after: 0, filter: { types: ['custom.*'] }, onEvent: (e) => got.push(e) });
    const wait = async (n: number) => {
      const deadline = Date.now() + 10_000;
      while (got.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    };
    await wait(1);
    await first.stop();
    const second = await startBridge({
      args: ['--port', String(p)],
      dataDir: first.dataDir,
      secret: first.secret,
    });
    await second.agent('w').append({ events: [{ type: 'custom.after' }] });
    await wait(2);
    sub.close();
    await reader.close();
    expect(got.map((e) => e.type)).toEqual(['custom.before', 'custom.after']);
    await second.stop();
  });
});
