import { afterAll, describe, expect, it } from 'vitest';
import type { Event, Review } from '../../../bridge-image/protocol/index.js';
import { startBridge, type BridgeProcess } from '../../helpers/bridge-process.js';

const ESCALATING = { tool: 'Bash', input: { command: 'rm -rf "$BUILD_DIR/"*' } };
const running: BridgeProcess[] = [];
afterAll(async () => {
  for (const b of running) await b.stop();
});
const start = async (args: string[] = [], more: Parameters<typeof startBridge>[0] = {}) => {
  const b = await startBridge({ args, ...more });
  running.push(b);
  return b;
};

describe('escalation and reviews', () => {
  it('routes an escalation to a connected expert over the WebSocket, and the agent gets the answer', async () => {
    const b = await start();
    await b.admin().nameExpert({ agentId: 'sec-expert', capabilities: ['shell'] });
    const expert = b.agent('sec-expert', 'expert');
    await expert.registerAgent({ capabilities: ['shell'] });
    const seen: Event[] = [];
    const sub = expert.subscribe({
      after: 0,
      filter: { types: ['review.requested'] },
      onEvent: (e) => seen.push(e),
    });
    const until = async (f: () => boolean) => {
      const deadline = Date.now() + 10_000;
      while (!f() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    };
    // the expert counts once its WebSocket is connected
    let connected = false;
    const deadline = Date.now() + 10_000;
    while (!connected && Date.now() < deadline) {
      connected = !!(await b.admin().listAgents()).agents.find((a) => a.agentId === 'sec-expert')?.connected;
      if (!connected) await new Promise((r) => setTimeout(r, 50));
    }
    expect(connected).toBe(true);
    const agent = b.agent('worker');
    const v = await agent.validate(ESCALATING);
    expect(v.decision).toBe('escalate');
    expect(v.reviewId).toMatch(/^[0-9a-f]{16}$/);
    await until(() => seen.length > 0);
    const pushed = seen[0]!.data as Review;
    expect(pushed).toMatchObject({
      id: v.reviewId,
      state: 'pending-expert',
      capability: 'shell',
      agentId: 'worker',
    });
    const waiting = agent.review(v.reviewId!, 10_000);
    await expert.answerReview(pushed.id, {
      decision: 'approved',
      reason: 'BUILD_DIR is always set by the Makefile',
    });
    const answered = await waiting;
    expect(answered).toMatchObject({ state: 'answered', decision: 'approved', answeredBy: 'sec-expert' });
    sub.close();
  });

  it('goes to the developer when no expert is there, and only admin or a capable expert may answer', async () => {
    const b = await start();
    const v = await b.agent('worker').validate(ESCALATING);
    const r = await b.admin().review(v.reviewId!);
    expect(r.state).toBe('pending-developer');
    await expect(
      b.agent('worker').answerReview(r.id, { decision: 'approved', reason: 'me' }),
    ).rejects.toMatchObject({
      status: 403,
    });
    const pending = await b.admin().reviews('pending-developer');
    expect(pending.reviews.map((x) => x.id)).toContain(r.id);
    const done = await b
      .admin()
      .answerReview(r.id, { decision: 'blocked', reason: 'use make clean instead' });
    expect(done).toMatchObject({ state: 'answered', decision: 'blocked', answeredBy: 'admin' });
    await expect(
      b.admin().answerReview(r.id, { decision: 'approved', reason: 'again' }),
    ).rejects.toMatchObject({
      status: 409,
    });
  });

  it('falls back from a silent expert to the developer, then to the policy default', async () => {
    const b = await start(['--expert-timeout-ms', '400', '--review-timeout-ms', '800']);
    await b.admin().nameExpert({ agentId: 'slow-expert', capabilities: ['shell', 'files'] });
    const expert = b.agent('slow-expert', 'expert');
    await expert.registerAgent({ capabilities: ['shell', 'files'] });
    const sub = expert.subscribe({ after: 0, filter: { types: ['review.*'] }, onEvent: () => undefined });
    await new Promise((r) => setTimeout(r, 300));
    const v = await b.agent('worker').validate(ESCALATING);
    expect((await b.admin().review(v.reviewId!)).state).toBe('pending-expert');
    const final = await b.agent('worker').review(v.reviewId!, 10_000);
    expect(final).toMatchObject({ state: 'expired', decision: 'blocked', answeredBy: null });
    const steps = await b.admin().query({ stream: `review:${v.reviewId}` });
    expect(steps.events.map((e) => e.type)).toEqual([
      'review.requested',
      'review.escalated',
      'review.expired',
    ]);
    sub.close();
  });

  it('keeps pending reviews across a restart', async () => {
    const b = await start();
    const v = await b.agent('worker').validate(ESCALATING);
    await b.stop();
    const again = await start([], { dataDir: b.dataDir, secret: b.secret });
    const pending = await again.admin().reviews('pending-developer');
    expect(pending.reviews.map((r) => r.id)).toContain(v.reviewId);
    const done = await again
      .admin()
      .answerReview(v.reviewId!, { decision: 'approved', reason: 'after restart' });
    expect(done.state).toBe('answered');
  });
});
