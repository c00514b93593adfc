import { describe, expect, it } from 'vitest';
import { Headers, type BridgeClient, type Event } from '../../bridge-image/protocol/index.js';
import { bridgesKilledAfterEach } from '../helpers/bridge-process.js';

const start = bridgesKilledAfterEach();

interface Summary {
  window: { from: string; to: string };
  total: number;
  kinds: Record<
    string,
    { count: number; samples: { agentId: string; claimedAgent?: string; route: string }[] }
  >;
}

/** `n` unsigned requests, 50 at a time, each claiming one of ten agents. */
async function flood(url: string, n: number): Promise<void> {
  for (let i = 0; i < n; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, n - i) }, async (_, k) => {
        const res = await fetch(`${url}/v1/status`, {
          headers: { [Headers.agent]: `claimed-${(i + k) % 10}` },
        });
        expect(res.status).toBe(401);
        await res.arrayBuffer();
      }),
    );
  }
}

/** How many unsigned refusals the log accounts for: one event each, or counted in a summary. */
async function accounted(
  admin: BridgeClient,
): Promise<{ one: number; summarised: number; summaries: Summary[] }> {
  const one = (await admin.query({ type: 'security.unsigned', limit: 10_000 })).events.length;
  const summaries = (await admin.query({ type: 'security.suppressed', limit: 1000 })).events.map(
    (e: Event) => e.data as Summary,
  );
  const summarised = summaries.reduce((n, s) => n + (s.kinds.unsigned?.count ?? 0), 0);
  return { one, summarised, summaries };
}

describe('security events under a flood', () => {
  it('accounts for every refusal: recorded one by one up to the rate, the rest in a summary with samples', async () => {
    const b = await start();
    await flood(b.url, 700);
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    expect(metrics).toContain('lighthouse_security_events_total{kind="unsigned"} 700');
    const admin = b.admin();
    let got = await accounted(admin);
    const deadline = Date.now() + 20_000;
    while (got.one + got.summarised < 700 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      got = await accounted(admin);
    }
    expect(got.one + got.summarised).toBe(700);
    expect(got.one).toBeLessThan(700);
    const s = got.summaries[0]!;
    expect(s.total).toBe(s.kinds.unsigned!.count);
    expect(Date.parse(s.window.from)).toBeLessThanOrEqual(Date.parse(s.window.to));
    const samples = s.kinds.unsigned!.samples;
    expect(samples.length).toBe(5);
    expect(new Set(samples.map((x) => x.claimedAgent)).size).toBe(5);
    expect(samples.every((x) => x.agentId === 'unknown' && x.route === '/v1/status')).toBe(true);
    expect(metrics).toMatch(
      new RegExp(`lighthouse_security_events_summarised_total\\{kind="unsigned"\\} ${got.summarised}\\b`),
    );
  });

  it('records the summary at shutdown, so a flood just before a stop is not lost', async () => {
    const b = await start();
    await flood(b.url, 500);
    expect(await b.stop('SIGTERM')).toBe(0);
    const again = await start({ dataDir: b.dataDir, secret: b.secret });
    const got = await accounted(again.admin());
    expect(got.one + got.summarised).toBe(500);
    expect(got.summarised).toBeGreaterThan(0);
  });
});
