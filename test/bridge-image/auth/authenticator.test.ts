import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  deriveAgentKey,
  deriveSessionKey,
  type BridgeClient,
  type SessionInfo,
} from '../../../bridge-image/protocol/index.js';
import { startBridge, type BridgeProcess } from '../../helpers/bridge-process.js';
import { raw, signedHeaders } from '../../helpers/signed-fetch.js';

let b: BridgeProcess;
let admin: BridgeClient;
beforeAll(async () => {
  b = await startBridge({ args: ['--rate-limit', '50'] });
  admin = b.admin();
});
afterAll(async () => {
  await b.stop();
});

/** Opens a session by hand, so the test controls every header of later requests. */
async function openSession(
  agentId: string,
  client = 'test-client',
): Promise<{ info: SessionInfo; key: Buffer }> {
  const body = JSON.stringify({ agentId, role: 'agent' });
  const key = deriveAgentKey(b.secret, agentId);
  const r = await raw(b.url, {
    method: 'POST',
    path: '/v1/sessions',
    body,
    headers: signedHeaders(key, 'POST', '/v1/sessions', body, { agent: agentId, client }),
  });
  expect(r.status).toBe(201);
  return { info: r.json as SessionInfo, key: deriveSessionKey(key, (r.json as SessionInfo).sessionId) };
}

async function securityEvents(kind: string, sinceSeq = 0) {
  await new Promise((r) => setTimeout(r, 50));
  return (await admin.query({ type: `security.${kind}`, after: sinceSeq, limit: 1000 })).events;
}

async function lastSeq() {
  return (await admin.query({ order: 'desc', limit: 1 })).lastSeq;
}

describe('signed requests', () => {
  it('accepts a correctly signed request', async () => {
    const s = await openSession('good');
    const r = await raw(b.url, {
      path: '/v1/status',
      headers: signedHeaders(s.key, 'GET', '/v1/status', undefined, { session: s.info.sessionId }),
    });
    expect(r.status).toBe(200);
    expect(r.json.you.agentId).toBe('good');
  });

  it('refuses an unsigned request with 401 and records it', async () => {
    const since = await lastSeq();
    const r = await raw(b.url, { path: '/v1/events' });
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe('unauthenticated');
    expect((await securityEvents('unsigned', since)).length).toBeGreaterThan(0);
  });

  it('refuses a bad signature, a tampered body and a tampered query', async () => {
    const s = await openSession('sig');
    const since = await lastSeq();
    const wrongKey = deriveSessionKey(deriveAgentKey(b.secret, 'other'), s.info.sessionId);
    const r1 = await raw(b.url, {
      path: '/v1/status',
      headers: signedHeaders(wrongKey, 'GET', '/v1/status', undefined, { session: s.info.sessionId }),
    });
    expect(r1.status).toBe(401);
    expect(r1.json.error.code).toBe('bad_signature');
    const body = JSON.stringify({ events: [{ type: 'custom.a', data: 1 }] });
    const r2 = await raw(b.url, {
      method: 'POST',
      path: '/v1/events',
      body: body.replace('1', '2'),
      headers: signedHeaders(s.key, 'POST', '/v1/events', body, { session: s.info.sessionId }),
    });
    expect(r2.status).toBe(401);
    const r3 = await raw(b.url, {
      path: '/v1/events?limit=2',
      headers: signedHeaders(s.key, 'GET', '/v1/events?limit=1', undefined, { session: s.info.sessionId }),
    });
    expect(r3.status).toBe(401);
    expect((await securityEvents('bad_signature', since)).length).toBeGreaterThanOrEqual(3);
  });

  it('refuses a stale timestamp (outside ±30 s), both past and future', async () => {
    const s = await openSession('stale');
    const since = await lastSeq();
    for (const ts of [Date.now() - 31_000, Date.now() + 31_000]) {
      const r = await raw(b.url, {
        path: '/v1/status',
        headers: signedHeaders(s.key, 'GET', '/v1/status', undefined, { session: s.info.sessionId, ts }),
      });
      expect(r.status).toBe(401);
      expect(r.json.error.code).toBe('stale_timestamp');
    }
    expect((await securityEvents('stale_timestamp', since)).length).toBe(2);
  });

  it('refuses a replayed request', async () => {
    const s = await openSession('replay');
    const since = await lastSeq();
    const h = signedHeaders(s.key, 'GET', '/v1/status', undefined, { session: s.info.sessionId });
    expect((await raw(b.url, { path: '/v1/status', headers: h })).status).toBe(200);
    const again = await raw(b.url, { path: '/v1/status', headers: h });
    expect(again.status).toBe(401);
    expect(again.json.error.code).toBe('replay');
    expect((await securityEvents('replay', since)).length).toBe(1);
  });

  it('refuses a wrong role with 403 and records it', async () => {
    const s = await openSession('plain');
    const since = await lastSeq();
    const r = await raw(b.url, {
      path: '/v1/sessions',
      headers: signedHeaders(s.key, 'GET', '/v1/sessions', undefined, { session: s.info.sessionId }),
    });
    expect(r.status).toBe(403);
    expect(r.json.error.message).toMatch(/needs role admin/);
    expect((await securityEvents('forbidden', since)).length).toBe(1);
  });

  it('refuses to open an admin session with an agent key', async () => {
    const body = JSON.stringify({ agentId: 'sneaky', role: 'admin' });
    const r = await raw(b.url, {
      method: 'POST',
      path: '/v1/sessions',
      body,
      headers: signedHeaders(deriveAgentKey(b.secret, 'sneaky'), 'POST', '/v1/sessions', body, {
        agent: 'sneaky',
      }),
    });
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe('bad_signature');
  });

  it('refuses a revoked session, and records its use', async () => {
    const s = await openSession('revokee');
    await admin.revokeSession(s.info.sessionId, 'test revocation');
    const since = await lastSeq();
    const r = await raw(b.url, {
      path: '/v1/status',
      headers: signedHeaders(s.key, 'GET', '/v1/status', undefined, { session: s.info.sessionId }),
    });
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe('session_revoked');
    expect(r.json.error.message).toContain('test revocation');
    expect((await securityEvents('revoked_session_use', since)).length).toBe(1);
    const revoked = await admin.query({ type: 'session.revoked', stream: 'agent:revokee' });
    expect(revoked.events).toHaveLength(1);
  });

  it('revokes a session used from a second fingerprint', async () => {
    const s = await openSession('victim', 'client-A');
    const since = await lastSeq();
    const hijack = await raw(b.url, {
      path: '/v1/status',
      headers: signedHeaders(s.key, 'GET', '/v1/status', undefined, {
        session: s.info.sessionId,
        client: 'client-B',
      }),
    });
    expect(hijack.status).toBe(401);
    expect(hijack.json.error.code).toBe('session_revoked');
    const owner = await raw(b.url, {
      path: '/v1/status',
      headers: signedHeaders(s.key, 'GET', '/v1/status', undefined, {
        session: s.info.sessionId,
        client: 'client-A',
      }),
    });
    expect(owner.status).toBe(401);
    expect((await securityEvents('hijack_suspected', since)).length).toBe(1);
  });

  it('revokes a session that bursts beyond the rate limit', async () => {
    const s = await openSession('burst');
    const since = await lastSeq();
    const t0 = Date.now();
    const results = await Promise.all(
      Array.from({ length: 150 }, () =>
        raw(b.url, {
          path: '/v1/status',
          headers: signedHeaders(s.key, 'GET', '/v1/status', undefined, { session: s.info.sessionId }),
        }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses).toContain(429);
    // burst 100 (2 × rate), plus what the bucket refills at 50/s while the requests run
    const allowance = 100 + Math.ceil((50 * (Date.now() - t0)) / 1000);
    expect(statuses.filter((x) => x === 200).length).toBeLessThanOrEqual(allowance);
    expect((await securityEvents('rate_limited', since)).length).toBe(1);
  });

  it('revokes a session with two live WebSocket connections', async () => {
    const c = b.agent('twosockets');
    const url = b.url.replace('http', 'ws') + '/v1/stream';
    const first = new WebSocket(url, { headers: await c.signedHeaders('GET', '/v1/stream') });
    await new Promise((r, j) => first.once('open', r).once('error', j));
    const closed = new Promise<number>((r) => first.once('close', (code) => r(code)));
    const since = await lastSeq();
    const second = new WebSocket(url, { headers: await c.signedHeaders('GET', '/v1/stream') });
    const refused = await new Promise<number>((r) =>
      second.once('unexpected-response', (_q, res) => r(res.statusCode!)),
    );
    expect(refused).toBe(401);
    expect(await closed).toBe(4001);
    expect((await securityEvents('hijack_suspected', since)).length).toBe(1);
    await expect(c.status()).rejects.toMatchObject({ code: 'session_revoked' });
  });

  it('ends an idle session', async () => {
    const idle = await startBridge({ args: ['--session-idle-ms', '300'] });
    try {
      const c = idle.agent('sleepy');
      await c.status();
      const sid = (await c.session()).info.sessionId;
      await new Promise((r) => setTimeout(r, 500));
      const s = await c.session();
      const key = s.key;
      const r = await raw(idle.url, {
        path: '/v1/status',
        headers: signedHeaders(key, 'GET', '/v1/status', undefined, { session: sid, client: c.clientId }),
      });
      expect(r.status).toBe(401);
      expect(r.json.error.code).toBe('session_expired');
      // The client opens a fresh session on its own.
      expect((await c.status()).you.agentId).toBe('sleepy');
    } finally {
      await idle.stop();
    }
  });
});
