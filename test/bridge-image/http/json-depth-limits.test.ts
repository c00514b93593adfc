import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { BridgeError, deriveAgentKey, MAX_JSON_DEPTH, Routes } from '../../../bridge-image/protocol/index.js';
import { parsePolicyText, PolicyError } from '../../../bridge-image/src/validation/policy.js';
import { BRIDGE_JS, startBridge, tempDir, type BridgeProcess } from '../../helpers/bridge-process.js';
import { raw, signedHeaders } from '../../helpers/signed-fetch.js';

const nest = (n: number, inner = '') => '['.repeat(n) + inner + ']'.repeat(n);
const LIMIT_NAMED = `nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels (limit ${MAX_JSON_DEPTH})`;

let b: BridgeProcess;
beforeAll(async () => {
  b = await startBridge();
});
afterAll(async () => {
  expect(await b.stop()).toBe(0);
});

async function refusal(p: Promise<unknown>): Promise<BridgeError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(BridgeError);
  return e as BridgeError;
}

describe('JSON nesting is bounded at the edge', () => {
  it('POST /v1/events nested 10,000 or 4,111 deep is a 400 naming the limit (was a 500), and nothing is stored', async () => {
    const a = b.agent('deep-writer');
    const before = (await a.query({ order: 'desc', limit: 1 })).lastSeq;
    for (const depth of [10_000, 4111, MAX_JSON_DEPTH]) {
      const body = Buffer.from(`{"events":[{"type":"custom.deep","data":${nest(depth)}}]}`);
      const e = await refusal(a.callRaw('POST', Routes.events, { rawBody: body }));
      expect(e.status).toBe(400);
      expect(e.code).toBe('invalid_json');
      expect(e.message).toBe(`request body ${LIMIT_NAMED}`);
    }
    const after = await a.query({ after: before, type: 'custom.deep' });
    expect(after.events).toEqual([]);
  });

  it('takes data as deep as fits in the limit, and reads it back as it was', async () => {
    const a = b.agent('deep-enough');
    // The body's object, its events array and the event object are three levels of the limit.
    const data = JSON.parse(nest(MAX_JSON_DEPTH - 3, '"bottom"')) as unknown;
    const r = await a.append({ events: [{ type: 'custom.nested', data }] });
    const page = await a.query({ after: r.events[0]!.seq - 1, limit: 1 });
    expect(page.events[0]!.data).toEqual(data);
  });

  it('every other JSON body is refused the same way before it is parsed', async () => {
    const admin = b.admin();
    const agent = b.agent('deep-bodies');
    const deep = Buffer.from(`{"x":${nest(5000)}}`);
    for (const [c, route] of [
      [admin, Routes.validate],
      [admin, Routes.annotations],
      [admin, Routes.messages],
      [admin, Routes.tasks],
      [agent, Routes.agentRegister],
      [agent, Routes.leases],
    ] as const) {
      const e = await refusal(c.callRaw('POST', route, { rawBody: deep }));
      expect([route, e.status, e.message]).toEqual([route, 400, `request body ${LIMIT_NAMED}`]);
    }
    // The session handshake is signed with the agent's own key, before any session exists.
    const key = deriveAgentKey(b.secret, 'handshake');
    const r = await raw(b.url, {
      method: 'POST',
      path: Routes.sessions,
      body: deep,
      headers: signedHeaders(key, 'POST', Routes.sessions, deep, { agent: 'handshake' }),
    });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toBe(`request body ${LIMIT_NAMED}`);
  });

  it('a WebSocket message nested too deep is answered with an error naming the limit; the connection keeps serving', async () => {
    const c = b.agent('deep-ws');
    const ws = new WebSocket(b.url.replace('http', 'ws') + '/v1/stream', {
      headers: await c.signedHeaders('GET', '/v1/stream'),
    });
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    const replies: { type: string; code?: string; message?: string }[] = [];
    ws.on('message', (d: Buffer) => replies.push(JSON.parse(d.toString()) as (typeof replies)[number]));
    ws.send(`{"type":"subscribe","id":"deep","filter":${nest(100_000)}}`);
    ws.send(JSON.stringify({ type: 'subscribe', id: 'fine', after: 0, filter: { types: ['custom.none'] } }));
    const deadline = Date.now() + 5000;
    while (replies.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    ws.close();
    expect(replies[0]).toEqual({ type: 'error', code: 'invalid_json', message: `message ${LIMIT_NAMED}` });
    expect(replies[1]).toMatchObject({ type: 'caught-up', sub: 'fine' });
  });

  it('`bridge.js import` refuses a line nested too deep, naming the line and the limit', () => {
    const dir = tempDir();
    const file = path.join(dir, 'deep.jsonl');
    const header = { kind: 'lighthouse-export', format: 2, schemaVersion: 3, lastSeq: 1 };
    const event = `{"kind":"event","seq":1,"id":"x","stream":"custom:a","streamVersion":1,"type":"custom.a","agentId":"a","ts":"2026-01-01T00:00:00.000Z","data":${nest(4111)}}`;
    fs.writeFileSync(file, `${JSON.stringify(header)}\n${event}\n`);
    const r = spawnSync(
      process.execPath,
      [BRIDGE_JS, 'import', '--data-dir', path.join(dir, 'fresh'), '--from', file],
      { encoding: 'utf8' },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(
      'line 2: the line nests arrays and objects deeper than 129 levels (limit 129)',
    );
  });

  it('a policy file nested too deep is refused naming the limit', () => {
    let err: unknown;
    try {
      parsePolicyText(`{"rules":${nest(20_000)}}`, '/ws/.lighthouse/policy.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PolicyError);
    expect((err as PolicyError).issues).toEqual([`policy.json ${LIMIT_NAMED}`]);
  });

  it('the bridge answered all of it and still serves', async () => {
    expect(b.proc.exitCode).toBeNull();
    expect((await b.admin().health()).status).toBe('ok');
  });
});
