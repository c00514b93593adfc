import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Collaboration,
  Elicitation,
  ElicitationList,
  Inbox,
  Message,
  Review,
  ReviewList,
  Task,
  TaskList,
  ValidateResponse,
  type BridgeClient,
} from '../../bridge-image/protocol/index.js';
import { acknowledgeMessageOutput } from '../../mcp-server/tools/acknowledge-message.js';
import { startBridge, type BridgeProcess } from '../helpers/bridge-process.js';
import { agentArgs, connectMcp, eventually, textOf, type McpConnection } from './mcp-process.js';

/** The command the fast path escalates instead of deciding: a recursive delete through a variable. */
const ESCALATED = 'rm -rf "$BUILD_DIR/"*';

describe('the coordination tools, between MCP agents over a real bridge', () => {
  let bridge: BridgeProcess;
  let alice: McpConnection;
  let bob: McpConnection;
  let carol: McpConnection;
  let admin: BridgeClient;

  beforeAll(async () => {
    bridge = await startBridge();
    [alice, bob, carol] = await Promise.all([
      connectMcp(agentArgs(bridge, 'alice')),
      connectMcp(agentArgs(bridge, 'bob')),
      connectMcp(agentArgs(bridge, 'carol')),
    ]);
    admin = bridge.admin();
  });
  afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close(), carol?.close()]);
    await bridge?.stop();
  });

  const ok = async (mcp: McpConnection, name: string, args: Record<string, unknown> = {}) => {
    const res = await mcp.call(name, args);
    expect(res.isError, `${name}: ${textOf(res)}`).toBeFalsy();
    return res.structuredContent;
  };
  const failed = async (mcp: McpConnection, name: string, args: Record<string, unknown>) => {
    const res = await mcp.call(name, args);
    expect(res.isError, `${name} should fail: ${textOf(res)}`).toBe(true);
    expect(res.structuredContent).toBeUndefined();
    return textOf(res);
  };

  it('a message from one agent reaches the other agent’s inbox and can be acknowledged', async () => {
    const sent = Message.parse(await ok(alice, 'send_message', { to: ['bob'], body: 'schema changed' }));
    expect(sent).toMatchObject({ from: 'alice', to: ['bob'], thread: sent.id, acked: false });

    const inbox = Inbox.parse(await ok(bob, 'inbox', { unacked_only: true }));
    expect(inbox.messages.map((m) => [m.id, m.from, m.body])).toEqual([[sent.id, 'alice', 'schema changed']]);
    // Not for carol.
    expect(Inbox.parse(await ok(carol, 'inbox')).messages).toEqual([]);

    const ack = acknowledgeMessageOutput.parse(await ok(bob, 'acknowledge_message', { message_id: sent.id }));
    expect(ack.message_id).toBe(sent.id);
    expect(Inbox.parse(await ok(bob, 'inbox', { unacked_only: true })).messages).toEqual([]);
    expect(Inbox.parse(await ok(bob, 'inbox')).messages[0]).toMatchObject({ id: sent.id, acked: true });

    // A reply in the thread; the thread view shows both sides.
    await ok(bob, 'send_message', { to: ['alice'], body: 'noted', thread: sent.id });
    const thread = Inbox.parse(await ok(alice, 'inbox', { thread: sent.id }));
    expect(thread.messages.map((m) => m.body)).toEqual(['schema changed', 'noted']);

    // Mistakes come back as isError text a model can act on.
    expect(await failed(carol, 'acknowledge_message', { message_id: sent.id })).toContain('inbox lists');
    expect(await failed(alice, 'send_message', { body: 'to whom?' })).toContain('"to"');
  });

  it('an elicitation is refused with content that breaks its schema, then answered and read by the asker', async () => {
    const asked = Elicitation.parse(
      await ok(alice, 'ask_agent', {
        to: 'bob',
        question: 'How many retries should the client make?',
        schema: {
          type: 'object',
          properties: { retries: { type: 'integer', minimum: 0 } },
          required: ['retries'],
        },
      }),
    );
    expect(asked).toMatchObject({ from: 'alice', to: 'bob', state: 'pending' });

    // Bob sees it among his questions.
    const mine = ElicitationList.parse(await ok(bob, 'check_elicitation'));
    expect(mine.elicitations.map((e) => [e.id, e.state])).toEqual([[asked.id, 'pending']]);

    const bad = await failed(bob, 'respond_elicitation', {
      elicitation_id: asked.id,
      action: 'accept',
      content: { retries: 'three' },
    });
    expect(bad).toContain("does not match the elicitation's schema");
    expect(bad).toContain('/retries must be integer');
    expect(
      await failed(bob, 'respond_elicitation', { elicitation_id: asked.id, action: 'accept' }),
    ).toContain('accept needs content');
    // Still pending for the asker.
    expect(
      ElicitationList.parse(await ok(alice, 'check_elicitation', { elicitation_id: asked.id }))
        .elicitations[0]?.state,
    ).toBe('pending');

    const answered = Elicitation.parse(
      await ok(bob, 'respond_elicitation', {
        elicitation_id: asked.id,
        action: 'accept',
        content: { retries: 3 },
      }),
    );
    expect(answered).toMatchObject({ state: 'answered', action: 'accept', content: { retries: 3 } });

    const res = await alice.call('check_elicitation', { elicitation_id: asked.id });
    expect(ElicitationList.parse(res.structuredContent).elicitations).toEqual([answered]);
    expect(textOf(res)).toContain('answered by bob: accept with {"retries":3}');

    // Answered once only; and only the one asked may answer.
    expect(
      await failed(bob, 'respond_elicitation', { elicitation_id: asked.id, action: 'decline' }),
    ).toContain('is answered');
    const other = Elicitation.parse(
      await ok(alice, 'ask_agent', { to: 'bob', question: 'Ship it?', schema: { type: 'boolean' } }),
    );
    expect(
      await failed(carol, 'respond_elicitation', { elicitation_id: other.id, action: 'decline' }),
    ).toContain('Not found');
    expect(
      Elicitation.parse(
        await ok(bob, 'respond_elicitation', { elicitation_id: other.id, action: 'decline' }),
      ),
    ).toMatchObject({ state: 'answered', action: 'decline', content: null });
  });

  it('a task is dispatched, taken on and finished, and both sides see it', async () => {
    const task = Task.parse(
      await ok(alice, 'dispatch_task', {
        to: 'bob',
        title: 'Add tests for the retry logic',
        priority: 'high',
      }),
    );
    expect(task).toMatchObject({ from: 'alice', to: 'bob', status: 'dispatched', priority: 'high' });

    const bobs = TaskList.parse(await ok(bob, 'list_tasks'));
    expect(bobs.tasks.map((t) => t.id)).toEqual([task.id]);

    await ok(bob, 'update_task', { task_id: task.id, status: 'in_progress' });
    const done = Task.parse(
      await ok(bob, 'update_task', { task_id: task.id, status: 'done', note: '12 tests' }),
    );
    expect(done.status).toBe('done');
    expect(done.notes.map((n) => [n.by, n.status, n.note])).toEqual([
      ['bob', 'in_progress', null],
      ['bob', 'done', '12 tests'],
    ]);
    expect(TaskList.parse(await ok(alice, 'list_tasks')).tasks[0]).toEqual(done);
    // Carol is not part of it.
    expect(await failed(carol, 'update_task', { task_id: task.id, status: 'failed' })).toContain(
      'Only the agent who dispatched',
    );
  });

  it('a collaboration is started and a message to it reaches every other member', async () => {
    const c = Collaboration.parse(
      await ok(alice, 'start_collaboration', {
        name: 'retry-work',
        objective: 'Make the client retry safely',
        members: ['bob', 'carol'],
      }),
    );
    expect(c.members.sort()).toEqual(['alice', 'bob', 'carol']);
    expect(
      await failed(bob, 'start_collaboration', {
        name: 'retry-work',
        objective: 'again',
        members: ['alice'],
      }),
    ).toContain('already exists');

    const sent = Message.parse(
      await ok(bob, 'send_message', { collaboration: 'retry-work', body: 'backoff is exponential now' }),
    );
    expect(sent.collaboration).toBe('retry-work');
    expect((sent.to as string[]).sort()).toEqual(['alice', 'carol']);
    for (const member of [alice, carol]) {
      const inbox = Inbox.parse(await ok(member, 'inbox', { unacked_only: true }));
      expect(inbox.messages.some((m) => m.id === sent.id && m.collaboration === 'retry-work')).toBe(true);
    }
  });

  describe('reviews', () => {
    let expert: McpConnection;
    beforeAll(async () => {
      await admin.nameExpert({ agentId: 'reviewer', capabilities: ['shell'] });
      expert = await connectMcp(agentArgs(bridge, 'reviewer', 'expert'));
    });
    afterAll(async () => {
      await expert?.close();
    });

    it('an escalated command is answered by an expert MCP agent and the asker sees the decision', async () => {
      await ok(expert, 'register_expert', { capabilities: ['shell'], displayName: 'Shell reviewer' });
      // Reviews are routed to experts with a live WebSocket: subscribing to a resource opens the MCP
      // server's event stream, which is that connection.
      await expert.client.subscribeResource({ uri: 'lighthouse://events/recent' });
      await eventually(async () =>
        (await admin.listAgents()).agents.some((a) => a.agentId === 'reviewer' && a.connected),
      );

      const v = ValidateResponse.parse(
        await ok(alice, 'validate', { tool: 'Bash', input: { command: ESCALATED } }),
      );
      expect(v.decision).toBe('escalate');
      const reviewId = v.reviewId!;
      expect(reviewId).toBeTruthy();

      const pending = ReviewList.parse(await ok(expert, 'list_reviews', { state: 'pending-expert' }));
      expect(pending.reviews.map((r) => [r.id, r.capability, r.agentId])).toEqual([
        [reviewId, 'shell', 'alice'],
      ]);

      // The asker waits while the expert answers.
      const waiting = alice.call('wait_for_review', { review_id: reviewId, wait_ms: 20_000 });
      const answered = Review.parse(
        await ok(expert, 'answer_review', {
          review_id: reviewId,
          decision: 'blocked',
          reason: 'BUILD_DIR may be empty: that deletes /*',
        }),
      );
      expect(answered).toMatchObject({ state: 'answered', decision: 'blocked', answeredBy: 'reviewer' });
      const seen = await waiting;
      expect(seen.isError).toBeFalsy();
      expect(Review.parse(seen.structuredContent)).toMatchObject({ state: 'answered', decision: 'blocked' });
      expect(textOf(seen)).toContain('Decided: blocked by reviewer');

      // A second answer is refused, naming how it was decided.
      expect(
        await failed(expert, 'answer_review', { review_id: reviewId, decision: 'approved', reason: 'again' }),
      ).toContain('already answered');
    });

    it('answer_review is refused to agents that are not experts, saying who may answer', async () => {
      const v = ValidateResponse.parse(
        await ok(bob, 'validate', { tool: 'Bash', input: { command: ESCALATED } }),
      );
      expect(v.decision).toBe('escalate');
      const text = await failed(carol, 'answer_review', {
        review_id: v.reviewId!,
        decision: 'approved',
        reason: 'fine',
      });
      expect(text).toContain('Not allowed for agent "carol"');
      expect(text).toContain('--role expert');
      // The review is untouched.
      expect((await admin.review(v.reviewId!)).state).toBe('pending-expert');
    });

    it('wait_for_review returns the pending review after wait_ms, and can be cancelled', async () => {
      const v = ValidateResponse.parse(
        await ok(bob, 'validate', { tool: 'Bash', input: { command: ESCALATED } }),
      );
      const t0 = Date.now();
      const res = await bob.call('wait_for_review', { review_id: v.reviewId!, wait_ms: 300 });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
      expect(Review.parse(res.structuredContent).state).toMatch(/^pending-/);
      expect(textOf(res)).toContain('call wait_for_review again');

      const ac = new AbortController();
      const cancelled = bob.call('wait_for_review', { review_id: v.reviewId!, wait_ms: 60_000 }, ac.signal);
      setTimeout(() => ac.abort(), 200);
      const t1 = Date.now();
      await expect(cancelled).rejects.toThrow();
      expect(Date.now() - t1).toBeLessThan(5_000);
      // The MCP server is still fine afterwards.
      await ok(bob, 'list_reviews');
      expect(await failed(bob, 'wait_for_review', { review_id: 'nope', wait_ms: 0 })).toContain('Not found');
    });
  });
});
