import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeClient } from '../../../bridge-image/protocol/index.js';
import { startBridge, type BridgeProcess } from '../../helpers/bridge-process.js';

let b: BridgeProcess;
let agent: BridgeClient;
beforeAll(async () => {
  b = await startBridge();
  agent = b.agent('ctl');
});
afterAll(async () => {
  await b.stop();
});

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: { status: number; message: string }) => e,
  );

describe('NUL and control characters in names and ids', () => {
  it('refuses a stream name holding NUL or another control character with a 400 naming the field', async () => {
    for (const stream of ['custom:a\u0000b', 'custom:a\u001bb', 'custom:a\u007fb', 'custom:a\u0085b']) {
      const e = await refusal(agent.append({ stream, events: [{ type: 'custom.x' }] }));
      expect(e, JSON.stringify(stream)).toMatchObject({ status: 400 });
      expect(e!.message).toContain('stream');
      expect(e!.message).toContain('control characters');
    }
    expect((await agent.append({ stream: 'custom:fine-é', events: [{ type: 'custom.x' }] })).stream).toBe(
      'custom:fine-é',
    );
    await expect(b.admin().query({ stream: 'custom:a\u0000b' })).rejects.toMatchObject({ status: 400 });
  });

  it('refuses control characters in query filters, thread ids, display names and task titles, and NUL in free text', async () => {
    const cases: [string, Promise<unknown>][] = [
      ['stream', agent.query({ stream: 'agent:x\u0000' })],
      ['agent', agent.query({ agent: 'a\u0000' })],
      ['path', agent.query({ path: 'src/a\u0000.ts' })],
      ['thread', agent.sendMessage({ to: ['ctl'], body: 'hi', thread: 't\n1' })],
      ['body', agent.sendMessage({ to: ['ctl'], body: 'nul \u0000 inside' })],
      ['displayName', agent.registerAgent({ displayName: 'evil\u001b[31m' })],
      ['note', agent.annotate({ path: 'a.ts', note: 'x\u0000y' })],
      ['title', agent.dispatchTask({ to: 'ctl', title: 'a\rb' })],
    ];
    for (const [field, p] of cases) {
      const e = await refusal(p);
      expect(e, field).toMatchObject({ status: 400 });
      expect(e!.message, field).toContain(field);
    }
    // Newlines stay fine in free text.
    expect((await agent.sendMessage({ to: ['ctl'], body: 'line 1\nline 2\ttab' })).body).toBe(
      'line 1\nline 2\ttab',
    );
  });
});
