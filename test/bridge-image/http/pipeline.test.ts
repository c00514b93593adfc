import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveAgentKey, deriveSessionKey, type SessionInfo } from '../../../bridge-image/protocol/index.js';
import { startBridge, type BridgeProcess } from '../../helpers/bridge-process.js';
import { raw, signedHeaders } from '../../helpers/signed-fetch.js';

let b: BridgeProcess;
let session: { id: string; key: Buffer };
beforeAll(async () => {
  b = await startBridge();
  const body = JSON.stringify({ agentId: 'input', role: 'agent' });
  const agentKey = deriveAgentKey(b.secret, 'input');
  const r = await raw(b.url, {
    method: 'POST',
    path: '/v1/sessions',
    body,
    headers: signedHeaders(agentKey, 'POST', '/v1/sessions', body, { agent: 'input' }),
  });
  const info = r.json as SessionInfo;
  session = { id: info.sessionId, key: deriveSessionKey(agentKey, info.sessionId) };
});
afterAll(async () => {
  await b.stop();
});

const post = (path: string, body: string | Buffer) =>
  raw(b.url, {
    method: 'POST',
    path,
    body,
    headers: signedHeaders(session.key, 'POST', path, body, { session: session.id }),
  });
const get = (path: string) =>
  raw(b.url, { path, headers: signedHeaders(session.key, 'GET', path, undefined, { session: session.id }) });

describe('bad input gets a 400 naming what was wrong, and the bridge keeps serving', () => {
  it('malformed JSON', async () => {
    const r = await post('/v1/events', '{"events": [');
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('invalid_json');
    expect(r.json.error.message).toMatch(/not valid JSON/);
  });

  it('invalid UTF-8', async () => {
    const r = await post('/v1/events', Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]));
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('invalid_utf8');
  });

  it('wrong types, naming the field', async () => {
    const r = await post('/v1/events', JSON.stringify({ events: [{ type: 42 }] }));
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('invalid_request');
    expect(r.json.error.message).toContain('events[0].type');
    const r2 = await post(
      '/v1/events',
      JSON.stringify({ events: [{ type: 'custom.ok' }], expectedVersion: 'one' }),
    );
    expect(r2.json.error.message).toContain('expectedVersion');
    const r3 = await get('/v1/events?limit=lots');
    expect(r3.status).toBe(400);
    expect(r3.json.error.message).toContain('limit');
    const r4 = await get('/v1/events?since=yesterday');
    expect(r4.json.error.message).toContain('since');
  });

  it('an event type an agent may not write, and a stream that is not its own', async () => {
    const r = await post('/v1/events', JSON.stringify({ events: [{ type: 'session.started' }] }));
    expect(r.status).toBe(400);
    expect(r.json.error.message).toContain('only custom.*');
    const r2 = await post(
      '/v1/events',
      JSON.stringify({ stream: 'agent:other', events: [{ type: 'custom.x' }] }),
    );
    expect(r2.status).toBe(403);
  });

  it('an oversized body gets 413', async () => {
    const big = JSON.stringify({ events: [{ type: 'custom.big', data: 'x'.repeat(2 * 1024 * 1024) }] });
    const r = await post('/v1/events', big);
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe('body_too_large');
    const found = await get('/v1/events?type=custom.big');
    expect(found.json.events).toHaveLength(0);
  });

  it('unknown routes are 404 and wrong methods 405', async () => {
    const r = await raw(b.url, { path: '/v1/nothing-here' });
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe('not_found');
    const r2 = await raw(b.url, { method: 'DELETE', path: '/health' });
    expect(r2.status).toBe(405);
    expect(r2.headers.get('allow')).toBe('GET');
  });

  it('still serves after all of that', async () => {
    const ok = await post(
      '/v1/events',
      JSON.stringify({ events: [{ type: 'custom.after', data: { fine: true } }] }),
    );
    expect(ok.status).toBe(201);
    expect(ok.json.events[0].seq).toBeGreaterThan(0);
    expect((await raw(b.url, { path: '/health' })).status).toBe(200);
  });

  it('refuses a wrong expectedVersion with 409 and the current version', async () => {
    const first = await post(
      '/v1/events',
      JSON.stringify({ stream: 'custom:board', events: [{ type: 'custom.a' }] }),
    );
    expect(first.status).toBe(201);
    const stale = await post(
      '/v1/events',
      JSON.stringify({ stream: 'custom:board', expectedVersion: 0, events: [{ type: 'custom.b' }] }),
    );
    expect(stale.status).toBe(409);
    expect(stale.json.error.code).toBe('version_conflict');
    expect(stale.json.error.details).toEqual({
      stream: 'custom:board',
      expectedVersion: 0,
      currentVersion: 1,
    });
    const right = await post(
      '/v1/events',
      JSON.stringify({ stream: 'custom:board', expectedVersion: 1, events: [{ type: 'custom.b' }] }),
    );
    expect(right.status).toBe(201);
    expect(right.json.streamVersion).toBe(2);
  });
});
