import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deriveAgentKey,
  deriveSessionKey,
  Headers,
  type BridgeClient,
  type Event,
} from '../../../bridge-image/protocol/index.js';
import WebSocket from 'ws';
import { startBridge, type BridgeProcess } from '../../helpers/bridge-process.js';
import { raw, signedHeaders } from '../../helpers/signed-fetch.js';

let b: BridgeProcess;
let admin: BridgeClient;
beforeAll(async () => {
  b = await startBridge();
  admin = b.admin();
});
afterAll(async () => {
  await b.stop();
});

const lastSeq = async () => (await admin.query({ order: 'desc', limit: 1 })).lastSeq;

/** Security events after `after`, once `n` are there (they are written behind the refusal) or after 3 s. */
async function security(after: number, n: number, type = 'security.*'): Promise<Event[]> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const { events } = await admin.query({ type, after, limit: 1000 });
    if (events.length >= n || Date.now() > deadline) return events;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('every 403 is recorded once', () => {
  it("records a refused read of another agent's shadow and a refused append to another's stream", async () => {
    const eve = b.agent('eve');
    await b.agent('alice').writeFile('secret.txt', 'alice only\n');
    const since = await lastSeq();
    await expect(eve.readFile('secret.txt', { agent: 'alice' })).rejects.toMatchObject({ status: 403 });
    await expect(eve.append({ stream: 'agent:alice', events: [{ type: 'custom.x' }] })).rejects.toMatchObject(
      {
        status: 403,
      },
    );
    // Through the idempotency layer too, which turns the refusal into a remembered reply.
    await expect(
      eve.callRaw('POST', '/v1/events', {
        body: { stream: 'agent:alice', events: [{ type: 'custom.x' }] },
        idempotencyKey: 'retry-key-0001',
      }),
    ).rejects.toMatchObject({ status: 403 });
    const events = await security(since, 3);
    expect(events.map((e) => [e.type, e.agentId, (e.data as { route: string }).route])).toEqual([
      ['security.forbidden', 'eve', '/v1/shadow/file'],
      ['security.forbidden', 'eve', '/v1/events'],
      ['security.forbidden', 'eve', '/v1/events'],
    ]);
    expect((events[0]!.data as { reason: string }).reason).toContain(
      "only admin may read another agent's shadow",
    );
  });

  it('records a refused path once, as path_rejected, not a second time as forbidden', async () => {
    const since = await lastSeq();
    await expect(b.agent('eve').readFile('../../etc/passwd')).rejects.toMatchObject({ status: 403 });
    await expect(b.agent('eve').writeFile('/etc/x', 'x')).rejects.toMatchObject({ code: 'path_rejected' });
    await new Promise((r) => setTimeout(r, 300));
    const events = await security(since, 2);
    expect(events.map((e) => e.type)).toEqual(['security.path_rejected', 'security.path_rejected']);
  });
});

describe('refusals are attributed only to a verified agent', () => {
  it('records unsigned and badly signed requests as "unknown", the claimed agent apart', async () => {
    const victim = b.agent('victim');
    const { info } = await victim.session();
    const since = await lastSeq();
    // Unsigned, claiming to be the victim.
    expect((await raw(b.url, { path: '/v1/status', headers: { [Headers.agent]: 'victim' } })).status).toBe(
      401,
    );
    // A session open signed with the wrong key, in the victim's name.
    const body = JSON.stringify({ agentId: 'victim', role: 'agent' });
    const open = await raw(b.url, {
      method: 'POST',
      path: '/v1/sessions',
      body,
      headers: signedHeaders(deriveAgentKey(b.secret, 'attacker'), 'POST', '/v1/sessions', body, {
        agent: 'victim',
      }),
    });
    expect(open.status).toBe(401);
    // The victim's real session id (it is in session.started events), with a bad signature.
    const forged = deriveSessionKey(deriveAgentKey(b.secret, 'attacker'), info.sessionId);
    const r = await raw(b.url, {
      path: '/v1/status',
      headers: signedHeaders(forged, 'GET', '/v1/status', undefined, { session: info.sessionId }),
    });
    expect(r.status).toBe(401);
    // The same forged signature on a WebSocket upgrade.
    const ws = new WebSocket(b.url.replace('http', 'ws') + '/v1/stream', {
      headers: signedHeaders(forged, 'GET', '/v1/stream', undefined, { session: info.sessionId }),
    });
    const refused = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => resolve(-1));
    });
    expect(refused).toBe(401);
    const events = await security(since, 4);
    expect(events.map((e) => [e.type, e.agentId])).toEqual([
      ['security.unsigned', 'unknown'],
      ['security.bad_signature', 'unknown'],
      ['security.bad_signature', 'unknown'],
      ['security.bad_signature', 'unknown'],
    ]);
    expect(events.map((e) => (e.data as { claimedAgent?: string }).claimedAgent)).toEqual([
      'victim',
      'victim',
      'victim',
      'victim',
    ]);
    expect((events[3]!.data as { route: string }).route).toBe('/v1/stream');
    expect(events.every((e) => (e.data as { agentId: string }).agentId === 'unknown')).toBe(true);
    expect((await admin.query({ agent: 'victim', type: 'security.*' })).events).toEqual([]);
  });
});
