import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { BridgeClient, Event, Review } from '../../../../bridge-image/protocol/index.js';
import { BRIDGE_JS, startBridge, type BridgeProcess } from '../../../helpers/bridge-process.js';

const ESCALATING = { tool: 'Bash', input: { command: 'rm -rf "$BUILD_DIR/"*' } };
const running: BridgeProcess[] = [];
afterAll(async () => {
  for (const b of running) await b.stop();
});
const start = async (opts: Parameters<typeof startBridge>[0] = {}) => {
  const b = await startBridge(opts);
  running.push(b);
  return b;
};

/** Security events of a kind recorded after `after` (they are written behind the refusal). */
async function securityEvents(admin: BridgeClient, kind: string, after: number, n = 1): Promise<Event[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const { events } = await admin.query({ type: `security.${kind}`, after, limit: 1000 });
    if (events.length >= n || Date.now() > deadline) return events;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits until the agent's WebSocket counts as connected (reviews go only to connected experts). */
async function connected(b: BridgeProcess, agentId: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if ((await b.admin().listAgents()).agents.find((a) => a.agentId === agentId)?.connected) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${agentId} never connected`);
}

describe('experts are named by the developer', () => {
  it('refuses an expert session to an agent nobody named, saying what the developer must do, and records it', async () => {
    const b = await start();
    const admin = b.admin();
    const since = (await admin.query({ order: 'desc', limit: 1 })).lastSeq;
    const err = await b
      .agent('mallory', 'expert', { capabilities: ['shell', 'files'] })
      .status()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 403, code: 'forbidden' });
    const message = (err as Error).message;
    expect(message).toContain('may not open an expert session');
    expect(message).toContain('Lighthouse: Name Expert Agent…');
    expect(message).toContain('POST /v1/experts');
    const [recorded] = await securityEvents(admin, 'forbidden', since);
    expect(recorded).toMatchObject({
      agentId: 'mallory',
      data: { route: '/v1/sessions', agentId: 'mallory' },
    });
    // An agent cannot name itself (or anyone) either.
    await expect(
      b.agent('mallory').nameExpert({ agentId: 'mallory', capabilities: ['shell'] }),
    ).rejects.toMatchObject({ status: 403 });
    expect((await admin.listExperts()).experts).toEqual([]);
  });

  it('gives a named expert its named capabilities, refuses more, and keeps the naming across a restart', async () => {
    const b = await start();
    const named = await b.admin().nameExpert({ agentId: 'rev', capabilities: ['shell'] });
    expect(named).toMatchObject({ agentId: 'rev', capabilities: ['shell'], namedBy: 'admin' });
    const greedy = b.agent('rev', 'expert', { capabilities: ['shell', 'files'] });
    const err = await greedy.status().catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 403, code: 'forbidden' });
    expect((err as Error).message).toContain('capabilities: files not named for expert "rev"');

    const rev = b.agent('rev', 'expert');
    expect((await rev.status()).you).toMatchObject({ agentId: 'rev', role: 'expert' });
    // Registering more than was named is refused; the named ones are what the bridge shows.
    await expect(rev.registerAgent({ capabilities: ['files'] })).rejects.toMatchObject({ status: 403 });
    expect((await rev.registerAgent({ capabilities: ['shell'] })).capabilities).toEqual(['shell']);

    await b.stop();
    const again = await start({ dataDir: b.dataDir, secret: b.secret });
    expect((await again.admin().listExperts()).experts).toMatchObject([
      { agentId: 'rev', capabilities: ['shell'] },
    ]);
    expect((await again.agent('rev', 'expert').status()).you.role).toBe('expert');

    // Removed: its expert sessions end, and it cannot open another.
    const live = again.agent('rev', 'expert', { clientId: 'second' });
    await live.status();
    expect(await again.admin().removeExpert('rev')).toMatchObject({ removed: true, sessionsEnded: 2 });
    await expect(live.status()).rejects.toMatchObject({ status: 401, code: 'session_revoked' });
    await expect(again.agent('rev', 'expert').status()).rejects.toMatchObject({ status: 403 });
    const types = (await again.admin().query({ stream: 'experts' })).events.map((e) => e.type);
    expect(types).toEqual(['expert.named', 'expert.removed']);
  });

  it('refuses an expert the answer to its own review, with a security event, and lets another answer', async () => {
    const b = await start();
    const admin = b.admin();
    await admin.nameExpert({ agentId: 'self', capabilities: ['shell'] });
    await admin.nameExpert({ agentId: 'peer', capabilities: ['shell'] });
    const self = b.agent('self', 'expert');
    const sub = self.subscribe({ after: 0, filter: { types: ['custom.none'] }, onEvent: () => undefined });
    try {
      await connected(b, 'self');
      const v = await self.validate(ESCALATING);
      expect(v.decision).toBe('escalate');
      const since = (await admin.query({ order: 'desc', limit: 1 })).lastSeq;
      expect((await admin.review(v.reviewId!)).state).toBe('pending-expert');
      const err = await self
        .answerReview(v.reviewId!, { decision: 'approved', reason: 'trust me' })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 403, code: 'forbidden' });
      expect((err as Error).message).toContain('nobody answers their own review');
      const [recorded] = await securityEvents(admin, 'forbidden', since);
      expect(recorded).toMatchObject({
        agentId: 'self',
        data: { route: '/v1/reviews/:id/answer', method: 'POST' },
      });
      expect((await admin.review(v.reviewId!)).state).toBe('pending-expert');
      const answered: Review = await b
        .agent('peer', 'expert')
        .answerReview(v.reviewId!, { decision: 'blocked', reason: 'BUILD_DIR may be empty' });
      expect(answered).toMatchObject({ state: 'answered', answeredBy: 'peer', agentId: 'self' });
    } finally {
      sub.close();
    }
  });
});

describe('bridge.js expert', () => {
  it('names, lists and removes experts on the running bridge, signed as admin from the master secret', async () => {
    const b = await start();
    const cli = (...args: string[]) =>
      promisify(execFile)(process.execPath, [
        BRIDGE_JS,
        'expert',
        ...args,
        '--secret-file',
        b.secretFile,
        '--port',
        String(b.port),
      ]);
    expect((await cli('name', 'rev', '--capabilities', 'shell,files')).stdout).toBe(
      'rev is an expert for files, shell\n',
    );
    expect((await cli('list')).stdout).toMatch(/^rev\tfiles,shell\tnamed /);
    expect((await b.agent('rev', 'expert').status()).you.role).toBe('expert');
    expect((await cli('remove', 'rev')).stdout).toContain(
      'rev is no longer an expert (1 expert sessions revoked)',
    );
    await expect(cli('remove', 'rev')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('not a named expert'),
    });
  });
});
