import { describe, expect, it } from 'vitest';
import { BridgeError, ErrorCode } from '../../bridge-image/protocol/index.js';
import { describeFailure } from '../../mcp-server/bridge-errors.js';

const ctx = { bridgeUrl: 'http://127.0.0.1:7777', agentId: 'claude-1' };

describe('a write carried out whose reply the bridge lost (reply_lost)', () => {
  const lost = new BridgeError(409, ErrorCode.replyLost, 'a request (POST /v1/tasks) … was not done again', {
    method: 'POST',
    route: '/v1/tasks',
  });

  it('tells the model it was done once, not to call again blindly, and where to look', () => {
    const text = describeFailure(lost, {
      ...ctx,
      doneHint: 'list_tasks shows whether the task was dispatched.',
    });
    expect(text).toMatch(/carried this call out/);
    expect(text).toMatch(/not done a second time/);
    expect(text).toMatch(/calling again would do it again/);
    expect(text).toMatch(/list_tasks shows whether the task was dispatched\.$/);
  });

  it('points at the list and read tools when the tool names nothing better', () => {
    expect(describeFailure(lost, ctx)).toMatch(/The list and read tools show the current state\.$/);
  });
});
