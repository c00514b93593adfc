import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Event } from '../../../bridge-image/protocol/index.js';
import { BRIDGE_JS, bridgesKilledAfterEach } from '../../helpers/bridge-process.js';

const start = bridgesKilledAfterEach();

describe('limits on sessions and connections', () => {
  it('refuses an agent a session beyond --max-sessions-per-agent with 429, recorded, until one closes', async () => {
    const b = await start({ args: ['--max-sessions-per-agent', '3'] });
    const clients = [1, 2, 3].map((i) => b.agent('greedy', 'agent', { clientId: `c${i}` }));
    for (const c of clients) await c.status();
    const since = (await b.admin().query({ order: 'desc', limit: 1 })).lastSeq;
    const err = await b
      .agent('greedy', 'agent', { clientId: 'c4' })
      .status()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 429, code: 'rate_limited' });
    expect((err as Error).message).toContain('already has 3 open sessions, the most one agent may hold');
    // Others are not affected.
    expect((await b.agent('modest').status()).you.agentId).toBe('modest');
    let events: Event[] = [];
    for (let i = 0; i < 100 && events.length === 0; i++) {
      events = (await b.admin().query({ type: 'security.rate_limited', after: since })).events;
      if (events.length === 0) await new Promise((r) => setTimeout(r, 25));
    }
    expect(events.map((e) => [e.agentId, (e.data as { route: string }).route])).toEqual([
      ['greedy', '/v1/sessions'],
    ]);
    await clients[0]!.close();
    expect((await b.agent('greedy', 'agent', { clientId: 'c5' }).status()).you.agentId).toBe('greedy');
  });

  it('closes connections beyond --max-connections at once and counts them; the bridge serves again after', async () => {
    const b = await start({ args: ['--max-connections', '4'] });
    const port = b.port;
    const open = await Promise.all(
      [1, 2, 3, 4].map(
        () =>
          new Promise<net.Socket>((resolve, reject) => {
            const s = net.connect(port, '127.0.0.1', () => resolve(s));
            s.on('error', reject);
          }),
      ),
    );
    // Give the server time to accept all four before the fifth arrives.
    await new Promise((r) => setTimeout(r, 200));
    const fifth = await new Promise<string>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.write('GET /health HTTP/1.1\r\nhost: x\r\n\r\n'));
      let got = '';
      s.on('data', (d: Buffer) => (got += d.toString()));
      s.on('close', () => resolve(got));
      s.on('error', () => undefined);
    });
    expect(fifth).toBe('');
    for (const s of open) s.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    expect(metrics).toMatch(/lighthouse_http_connections_dropped_total [1-9]/);
    expect((await fetch(`${b.url}/health`)).status).toBe(200);
  });

  it('documents both limits in --help', () => {
    const help = execFileSync(process.execPath, [BRIDGE_JS, '--help'], { encoding: 'utf8' });
    expect(help).toContain('--max-sessions-per-agent N');
    expect(help).toContain('LIGHTHOUSE_MAX_CONNECTIONS');
  });
});
