import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveAgentKey, deriveSessionKey, type SessionInfo } from '../../../bridge-image/protocol/index.js';
import { startBridge, type BridgeProcess } from '../../helpers/bridge-process.js';
import { raw, signedHeaders } from '../../helpers/signed-fetch.js';

let b: BridgeProcess;
const sessions = new Map<string, { id: string; key: Buffer }>();
beforeAll(async () => {
  b = await startBridge();
  for (const agentId of ['ida', 'idb']) {
    const body = JSON.stringify({ agentId, role: 'agent' });
    const agentKey = deriveAgentKey(b.secret, agentId);
    const r = await raw(b.url, {
      method: 'POST',
      path: '/v1/sessions',
      body,
      headers: signedHeaders(agentKey, 'POST', '/v1/sessions', body, { agent: agentId }),
    });
    const info = r.json as SessionInfo;
    sessions.set(agentId, { id: info.sessionId, key: deriveSessionKey(agentKey, info.sessionId) });
  }
});
afterAll(async () => {
  await b.stop();
});

const post = (agent: string, path: string, body: object, key?: string) => {
  const s = sessions.get(agent)!;
  const text = JSON.stringify(body);
  const headers = signedHeaders(s.key, 'POST', path, text, { session: s.id });
  if (key !== undefined) headers['idempotency-key'] = key;
  return raw(b.url, { method: 'POST', path, body: text, headers });
};

describe('idempotency keys', () => {
  it('carries out a request once per agent and key, and answers a repeat with the first reply', async () => {
    const body = { stream: 'custom:idem', events: [{ type: 'custom.once', data: 1 }] };
    const first = await post('ida', '/v1/events', body, 'key-aaaaaaaa');
    const again = await post('ida', '/v1/events', body, 'key-aaaaaaaa');
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.json).toEqual(first.json);
    expect(again.headers.get('x-lighthouse-idempotent-replay')).toBe('true');
    expect(first.headers.get('x-lighthouse-idempotent-replay')).toBeNull();
    // the same key from another agent is another request
    const other = await post('idb', '/v1/events', body, 'key-aaaaaaaa');
    expect(other.json.events[0].seq).not.toBe(first.json.events[0].seq);
    const stored = await b.admin().query({ type: 'custom.once' });
    expect(stored.events).toHaveLength(2);
  });

  it('remembers refusals too, survives a restart, and refuses a malformed key', async () => {
    const conflict = { stream: 'custom:idem2', expectedVersion: 5, events: [{ type: 'custom.x' }] };
    const r1 = await post('ida', '/v1/events', conflict, 'conflict-key-1');
    expect(r1.status).toBe(409);
    const r2 = await post('ida', '/v1/events', conflict, 'conflict-key-1');
    expect(r2.status).toBe(409);
    expect(r2.json).toEqual(r1.json);
    const ok = await post('ida', '/v1/events', { events: [{ type: 'custom.kept' }] }, 'restart-key-1');
    await b.stop();
    b = await startBridge({ dataDir: b.dataDir, secret: b.secret });
    const c = b.agent('ida');
    const replay = await c.callRaw('POST', '/v1/events', {
      body: { events: [{ type: 'custom.kept' }] },
      idempotencyKey: 'restart-key-1',
    });
    expect(JSON.parse(replay.body.toString())).toEqual(ok.json);
    expect((await b.admin().query({ type: 'custom.kept' })).events).toHaveLength(1);
    await expect(
      c.callRaw('POST', '/v1/events', {
        body: { events: [{ type: 'custom.y' }] },
        idempotencyKey: 'bad key!',
      }),
    ).rejects.toMatchObject({ status: 400 });
  });
});
