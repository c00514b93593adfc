import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event } from '../../../bridge-image/protocol/index.js';
import { startBridge, type BridgeProcess } from '../../helpers/bridge-process.js';

let b: BridgeProcess;
beforeAll(async () => {
  b = await startBridge();
});
afterAll(async () => {
  await b.stop();
});
const until = async (f: () => boolean) => {
  const deadline = Date.now() + 10_000;
  while (!f() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
};

describe('messages, elicitation, tasks and collaborations', () => {
  it('pushes messages to connected agents and keeps them for offline ones, with threads and acks', async () => {
    const alice = b.agent('alice');
    const bob = b.agent('bob');
    const live: Event[] = [];
    const sub = bob.subscribe({
      after: 0,
      filter: { types: ['message.sent'] },
      onEvent: (e) => live.push(e),
    });
    const m1 = await alice.sendMessage({
      to: ['bob', 'carol'],
      body: 'I am refactoring src/auth; avoid it for now',
    });
    await until(() => live.length > 0);
    expect((live[0]!.data as { id: string }).id).toBe(m1.id);
    sub.close();
    // carol was never connected: the message waits for her
    const carol = b.agent('carol');
    const inbox = await carol.inbox({ unacked: true });
    expect(inbox.messages.map((m) => m.body)).toEqual(['I am refactoring src/auth; avoid it for now']);
    const reply = await carol.sendMessage({ to: ['alice'], body: 'ok, done with it?', thread: m1.id });
    expect(reply.thread).toBe(m1.id);
    expect((await alice.inbox({ thread: m1.id })).messages.map((m) => m.from)).toEqual(['alice', 'carol']);
    await carol.ackMessage(m1.id);
    expect((await carol.inbox({ unacked: true })).messages).toEqual([]);
    expect((await carol.inbox()).messages[0]!.acked).toBe(true);
    await expect(b.agent('dave').ackMessage(m1.id)).rejects.toMatchObject({ status: 404 });
    const all = await alice.sendMessage({ to: 'all', body: 'standup in 5' });
    expect((await b.agent('erin').inbox()).messages.map((m) => m.id)).toContain(all.id);
  });

  it('sends to the members of a collaboration', async () => {
    const lead = b.agent('lead');
    const c = await lead.startCollaboration({
      name: 'auth-rewrite',
      objective: 'replace sessions',
      members: ['m1', 'm2'],
    });
    expect(c.members.sort()).toEqual(['lead', 'm1', 'm2']);
    await lead.sendMessage({ to: 'all', collaboration: 'auth-rewrite', body: 'plan is in docs/plan.md' });
    expect((await b.agent('m2').inbox()).messages.map((m) => m.collaboration)).toContain('auth-rewrite');
    expect((await b.agent('outsider').inbox()).messages.some((m) => m.collaboration === 'auth-rewrite')).toBe(
      false,
    );
    await expect(
      b.agent('outsider').sendMessage({ to: 'all', collaboration: 'auth-rewrite', body: 'hi' }),
    ).rejects.toMatchObject({
      status: 403,
    });
  });

  it('elicits an answer that must fit the JSON Schema, refusing one that does not', async () => {
    const asker = b.agent('asker');
    const answerer = b.agent('answerer');
    const el = await asker.elicit({
      to: 'answerer',
      question: 'Which port does the dev server use?',
      schema: { type: 'object', properties: { port: { type: 'integer', minimum: 1 } }, required: ['port'] },
    });
    expect(el.state).toBe('pending');
    await expect(
      answerer.respondElicitation(el.id, { action: 'accept', content: { port: 'eighty' } }),
    ).rejects.toThrow(/does not match the elicitation's schema: \/port must be integer/);
    expect((await asker.elicitation(el.id)).state).toBe('pending');
    await expect(
      asker.respondElicitation(el.id, { action: 'accept', content: { port: 1 } }),
    ).rejects.toMatchObject({ status: 403 });
    const done = await answerer.respondElicitation(el.id, { action: 'accept', content: { port: 5173 } });
    expect(done).toMatchObject({ state: 'answered', action: 'accept', content: { port: 5173 } });
    expect((await asker.elicitation(el.id)).content).toEqual({ port: 5173 });
    const declined = await asker.elicit({ to: 'answerer', question: 'secret?', schema: { type: 'string' } });
    expect((await answerer.respondElicitation(declined.id, { action: 'decline' })).action).toBe('decline');
    const short = await asker.elicit({
      to: 'answerer',
      question: 'quick?',
      schema: { type: 'boolean' },
      ttlMs: 1000,
    });
    await new Promise((r) => setTimeout(r, 1200));
    expect((await asker.elicitation(short.id)).state).toBe('expired');
    await expect(
      answerer.respondElicitation(short.id, { action: 'accept', content: true }),
    ).rejects.toMatchObject({ status: 409 });
    await expect(
      asker.elicit({ to: 'answerer', question: 'x', schema: { type: 'nonsense' } }),
    ).rejects.toMatchObject({ status: 400 });
  });

  it('dispatches tasks with priority and tracks their status', async () => {
    const lead = b.agent('tasklead');
    const t = await lead.dispatchTask({ to: 'worker1', title: 'add tests for auth', priority: 'high' });
    expect(t).toMatchObject({ status: 'dispatched', priority: 'high', from: 'tasklead', to: 'worker1' });
    await b.agent('worker1').updateTask(t.id, { status: 'in_progress', note: 'started' });
    const done = await b.agent('worker1').updateTask(t.id, { status: 'done' });
    expect(done.notes.map((n) => n.status)).toEqual(['in_progress', 'done']);
    expect((await lead.tasks()).tasks.find((x) => x.id === t.id)?.status).toBe('done');
    await expect(b.agent('stranger').updateTask(t.id, { status: 'cancelled' })).rejects.toMatchObject({
      status: 403,
    });
  });
});
