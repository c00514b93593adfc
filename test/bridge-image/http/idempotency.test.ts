import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deriveAgentKey,
  deriveSessionKey,
  ErrorCode,
  type SessionInfo,
} from '../../../bridge-image/protocol/index.js';
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

  it('answers a keyed write on any route once, and a repeat with the first reply', async () => {
    const c = b.agent('ida');
    const send = () =>
      c.callRaw('POST', '/v1/messages', {
        body: { to: ['idb'], body: 'only once' },
        idempotencyKey: 'message-key-1',
      });
    const first = await send();
    const again = await send();
    expect(again.body.toString()).toBe(first.body.toString());
    expect(again.headers['x-lighthouse-idempotent-replay']).toBe('true');
    expect((await b.admin().query({ type: 'message.sent' })).events).toHaveLength(1);
  });

  it('refuses with reply_lost, and does not redo, a write carried out whose reply was not kept', async () => {
    // What a bridge stopped between a handler's commit and its reply's leaves behind: the claim alone.
    await b.stop();
    const db = new Database(path.join(b.dataDir, 'events.db'));
    db.prepare("INSERT INTO idempotency (agent_id, key, status, body, created) VALUES (?, ?, 0, '', ?)").run(
      'ida',
      'task-key-lost-1',
      Date.now(),
    );
    db.close();
    b = await startBridge({ dataDir: b.dataDir, secret: b.secret });
    const task = { to: 'idb', title: 'do it once' };
    const retry = b
      .agent('ida')
      .callRaw('POST', '/v1/tasks', { body: task, idempotencyKey: 'task-key-lost-1' });
    await expect(retry).rejects.toMatchObject({
      status: 409,
      code: ErrorCode.replyLost,
      details: { method: 'POST', route: '/v1/tasks' },
    });
    await expect(retry).rejects.toThrow(/carried out before the bridge stopped.*not done again/);
    expect((await b.admin().query({ type: 'task.dispatched' })).events).toHaveLength(0);
    // The same key from another agent is another request.
    const other = await b.agent('idb').callRaw('POST', '/v1/tasks', {
      body: { to: 'ida', title: 'mine' },
      idempotencyKey: 'task-key-lost-1',
    });
    expect(other.status).toBe(201);
  });
});
