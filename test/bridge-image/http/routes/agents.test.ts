import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridge, type BridgeProcess } from '../../../helpers/bridge-process.js';

let b: BridgeProcess;
beforeAll(async () => {
  b = await startBridge();
});
afterAll(async () => {
  await b.stop();
});

describe('agents', () => {
  it('registers with capabilities, lists them, and shows presence from live connections', async () => {
    await b.admin().nameExpert({ agentId: 'reviewer', capabilities: ['security', 'shell'] });
    const expert = b.agent('reviewer', 'expert');
    const info = await expert.registerAgent({
      displayName: 'Security reviewer',
      capabilities: ['security', 'shell'],
    });
    expect(info).toMatchObject({ agentId: 'reviewer', role: 'expert', capabilities: ['security', 'shell'] });
    let list = await b.admin().listAgents();
    expect(list.agents.find((a) => a.agentId === 'reviewer')).toMatchObject({
      connected: false,
      displayName: 'Security reviewer',
    });

    const sub = expert.subscribe({ after: 0, filter: { types: ['custom.none'] }, onEvent: () => undefined });
    const deadline = Date.now() + 5000;
    do {
      list = await b.admin().listAgents();
      if (list.agents.find((a) => a.agentId === 'reviewer')?.connected) break;
      await new Promise((r) => setTimeout(r, 50));
    } while (Date.now() < deadline);
    expect(list.agents.find((a) => a.agentId === 'reviewer')?.connected).toBe(true);
    sub.close();
    await new Promise((r) => setTimeout(r, 200));
    list = await b.admin().listAgents();
    expect(list.agents.find((a) => a.agentId === 'reviewer')?.connected).toBe(false);
    const presence = await b.admin().query({ stream: 'agent:reviewer', type: 'agent.*' });
    expect(presence.events.map((e) => e.type)).toEqual([
      'agent.registered',
      'agent.connected',
      'agent.disconnected',
    ]);
  });

  it('survives a restart: registrations are rebuilt from events', async () => {
    const c = b.agent('persistent');
    await c.registerAgent({ capabilities: ['tests'] });
    await c.heartbeat();
    const status = await c.status();
    expect(status.you.agentId).toBe('persistent');
    expect(status.lastSeq).toBeGreaterThan(0);
    await b.stop();
    const again = await startBridge({ dataDir: b.dataDir, secret: b.secret });
    b = again;
    const list = await again.admin().listAgents();
    expect(list.agents.find((a) => a.agentId === 'persistent')?.capabilities).toEqual(['tests']);
  });

  it('refuses a reserved agent id', async () => {
    await expect(b.agent('system').status()).rejects.toMatchObject({ status: 400 });
  });
});
