import { describe, expect, it } from 'vitest';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { bridgesKilledAfterEach, tempDir } from '../helpers/bridge-process.js';

const start = bridgesKilledAfterEach();

/** Writers that append until told to stop, remembering every event the bridge acknowledged. */
function writers(clients: BridgeClient[]) {
  const acked: { seq: number; id: string; marker: string }[] = [];
  let stop = false;
  const loops = clients.map(async (c, w) => {
    let i = 0;
    while (!stop) {
      const marker = `${c.agentId}-${w}-${i++}`;
      try {
        const r = await c.append({ events: [{ type: 'custom.write', data: { marker } }] });
        acked.push({ seq: r.events[0]!.seq, id: r.events[0]!.id, marker });
      } catch {
        return; // the bridge went away: whatever was not acknowledged may be lost
      }
    }
  });
  return {
    acked,
    async halt() {
      stop = true;
      await Promise.all(loops);
    },
  };
}

async function allEvents(c: BridgeClient) {
  const out = new Map<number, { id: string; data: unknown }>();
  let after = 0;
  for (;;) {
    const page = await c.query({ after, limit: 10_000 });
    for (const e of page.events) out.set(e.seq, { id: e.id, data: e.data });
    if (page.nextCursor === null) return out;
    after = page.nextCursor;
  }
}

describe('durability of the bridge process', () => {
  it('keeps events across a clean restart', async () => {
    const dataDir = `${tempDir()}/data`;
    const a = await start({ dataDir });
    const c = a.agent('keeper');
    const r = await c.append({ events: [{ type: 'custom.note', data: { text: 'survive me' } }] });
    expect(await a.stop('SIGTERM')).toBe(0);
    const b = await start({ dataDir, secret: a.secret });
    const found = await b.agent('keeper').query({ type: 'custom.note' });
    expect(found.events.map((e) => e.id)).toEqual([r.events[0]!.id]);
    expect(found.events[0]!.data).toEqual({ text: 'survive me' });
  });

  it('loses no acknowledged event when killed with SIGKILL during concurrent appends, several times over', async () => {
    const dataDir = `${tempDir()}/data`;
    let secret: Buffer | undefined;
    const allAcked: { seq: number; id: string; marker: string }[] = [];
    for (let round = 0; round < 4; round++) {
      const b = await start(secret ? { dataDir, secret } : { dataDir });
      secret = b.secret;
      const w = writers(Array.from({ length: 16 }, (_, i) => b.agent(`w${i}`)));
      await new Promise((r) => setTimeout(r, 300 + round * 100));
      b.proc.kill('SIGKILL');
      await b.exited;
      await w.halt();
      expect(w.acked.length).toBeGreaterThan(20);
      allAcked.push(...w.acked);
    }
    const b = await start({ dataDir, secret: secret! });
    const stored = await allEvents(b.admin());
    for (const a of allAcked) {
      const e = stored.get(a.seq);
      expect(e?.id, `acknowledged event seq ${a.seq} (${a.marker}) is missing`).toBe(a.id);
      expect(e!.data).toEqual({ marker: a.marker });
    }
    // seq stays gap-free across crashes
    const seqs = [...stored.keys()].sort((x, y) => x - y);
    expect(seqs[seqs.length - 1]).toBe(seqs.length);
  });

  it('exits 0 on SIGTERM during load, with every acknowledged event stored', async () => {
    const dataDir = `${tempDir()}/data`;
    const b = await start({ dataDir });
    const w = writers(Array.from({ length: 16 }, (_, i) => b.agent(`t${i}`)));
    await new Promise((r) => setTimeout(r, 400));
    b.proc.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    await w.halt();
    expect(b.stderr()).toContain('"msg":"bridge stopped"');
    const again = await start({ dataDir, secret: b.secret });
    const stored = await allEvents(again.admin());
    for (const a of w.acked) expect(stored.get(a.seq)?.id).toBe(a.id);
    const types = [...stored.values()].length;
    expect(types).toBeGreaterThan(w.acked.length);
    const shutdown = await again.admin().query({ type: 'system.shutdown' });
    expect(shutdown.events[0]?.data).toEqual({ reason: 'SIGTERM' });
  });
});
